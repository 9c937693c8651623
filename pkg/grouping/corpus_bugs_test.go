package grouping

// corpusBugs returns the bugs of testdata/corpus.jsonl. Hints name the bug; two
// bugs with different hints must never share a fingerprint. Near-misses are
// marked in their hint: same type in another function, another type in the
// same function, the same runtime-only frames with another message.
func corpusBugs() []corpusBug {
	return []corpusBug{
		// ---- Node.js on Lambda ----
		{
			hint: "node-getUser-TypeError", runtime: "nodejs20.x", text: true, n: 3,
			tmpl: `{TS}\t{REQ}\tERROR\tInvoke Error \t{"errorType":"TypeError","errorMessage":"Cannot read properties of undefined (reading 'id')","stack":["TypeError: Cannot read properties of undefined (reading 'id')","    at getUser (/var/task/src/users.js:{L}:18)","    at Runtime.handler (/var/task/index.js:{L}:22)","    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"]}`,
		},
		{
			hint: "node-getOrder-TypeError", runtime: "nodejs20.x (near-miss: same type, other function)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tInvoke Error \t{"errorType":"TypeError","errorMessage":"Cannot read properties of undefined (reading 'id')","stack":["TypeError: Cannot read properties of undefined (reading 'id')","    at getOrder (/var/task/src/orders.js:{L}:18)","    at Runtime.handler (/var/task/index.js:{L}:22)","    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"]}`,
		},
		{
			hint: "node-getUser-RangeError", runtime: "nodejs20.x (near-miss: other type, same function)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tInvoke Error \t{"errorType":"RangeError","errorMessage":"Invalid time value","stack":["RangeError: Invalid time value","    at Date.toISOString (<anonymous>)","    at getUser (/var/task/src/users.js:{L}:30)","    at Runtime.handler (/var/task/index.js:{L}:22)","    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"]}`,
		},
		{
			hint: "node-ECONNREFUSED-runtime-only", runtime: "nodejs18.x", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tUncaught Exception \t{"errorType":"Error","errorMessage":"connect ECONNREFUSED {IP}:5432","code":"ECONNREFUSED","errno":-111,"syscall":"connect","address":"{IP}","port":5432,"stack":["Error: connect ECONNREFUSED {IP}:5432","    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"]}`,
		},
		{
			hint: "node-ETIMEDOUT-runtime-only", runtime: "nodejs18.x (near-miss: identical runtime-only frames, other message)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tUncaught Exception \t{"errorType":"Error","errorMessage":"connect ETIMEDOUT {IP}:5432","code":"ETIMEDOUT","errno":-110,"syscall":"connect","address":"{IP}","port":5432,"stack":["Error: connect ETIMEDOUT {IP}:5432","    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"]}`,
		},
		{
			hint: "node-loadOrder-unhandled-rejection", runtime: "nodejs20.x", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tUnhandled Promise Rejection \t{"errorType":"Runtime.UnhandledPromiseRejection","errorMessage":"Error: order {ID} not found","reason":{"errorType":"Error","errorMessage":"order {ID} not found","stack":["Error: order {ID} not found","    at loadOrder (/var/task/lib/orders.mjs:{L}:11)","    at async Runtime.handler (file:///var/task/index.mjs:{L}:20)"]},"promise":{},"stack":["Runtime.UnhandledPromiseRejection: Error: order {ID} not found","    at process.<anonymous> (file:///var/runtime/index.mjs:1276:17)","    at process.emit (node:events:519:28)","    at emit (node:internal/process/promises:150:20)","    at processPromiseRejections (node:internal/process/promises:284:27)","    at process.processTicksAndRejections (node:internal/process/task_queues:96:32)"]}`,
		},
		{
			hint: "node-validate-ValidationError-console", runtime: "nodejs20.x console.error(err)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tValidationError: email is required\n    at validate (/var/task/src/validate.js:{L}:11)\n    at Runtime.handler [as handler] (/var/task/index.js:{L}:5)\n    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)`,
		},
		{
			hint: "node-listItems-TypeError-jsonlog", runtime: "nodejs20.x JSON log format",
			tmpl: `{"timestamp":"{TS}","level":"ERROR","requestId":"{REQ}","message":{"errorType":"TypeError","errorMessage":"items.map is not a function","stackTrace":["TypeError: items.map is not a function","    at listItems (/var/task/src/items.js:{L}:17)","    at Runtime.handler (/var/task/index.js:{L}:12)","    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)"]}}`,
		},
		{
			hint: "node-chargeCard-pino", runtime: "node container, pino",
			tmpl: `{"level":50,"time":{EPOCH},"pid":{N},"hostname":"ip-10-0-1-{N}","reqId":"req-{ID}","err":{"type":"Error","message":"payment provider returned 502 for charge ch_{DEP}","stack":"Error: payment provider returned 502 for charge ch_{DEP}\n    at chargeCard (/app/dist/payments.js:{L}:13)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n    at async handler (/app/dist/server.js:{L}:5)"},"msg":"payment failed"}`,
		},
		{
			hint: "node-chargeCard-pino-other-message", runtime: "node container, pino (near-miss: generic Error, same function, other message)",
			tmpl: `{"level":50,"time":{EPOCH},"pid":{N},"hostname":"ip-10-0-1-{N}","reqId":"req-{ID}","err":{"type":"Error","message":"card number missing","stack":"Error: card number missing\n    at chargeCard (/app/dist/payments.js:{L}:9)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n    at async handler (/app/dist/server.js:{L}:5)"},"msg":"payment failed"}`,
		},
		{
			hint: "node-readUpload-bunyan", runtime: "node container, bunyan",
			tmpl: `{"name":"api","hostname":"web-{N}","pid":{N},"level":50,"err":{"message":"ENOENT: no such file or directory, open '/tmp/upload-{ID}.csv'","name":"Error","stack":"Error: ENOENT: no such file or directory, open '/tmp/upload-{ID}.csv'\n    at Object.openSync (node:fs:596:3)\n    at Object.readFileSync (node:fs:464:35)\n    at readUpload (/srv/app/lib/upload.js:{L}:20)","code":"ENOENT"},"msg":"upload failed","time":"{TS}","v":0}`,
		},
		{
			hint: "node-syncAccount-winston", runtime: "node container, winston",
			tmpl: `{"level":"error","message":"Unhandled error in job sync-{ID}","stack":"TypeError: Cannot destructure property 'id' of 'undefined' as it is undefined.\n    at syncAccount (/usr/src/app/jobs/sync.js:{L}:9)\n    at Job.run (/usr/src/app/node_modules/bull/lib/job.js:{L}:20)\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)","timestamp":"{TS}","service":"worker"}`,
		},
		{
			hint: "node-smoke-SmokeTestError", runtime: "nodejs20.x, the product's recommended shape",
			tmpl: `{"level":"ERROR","message":"smoke test failed","error":"SmokeTestError","stack":"SmokeTestError: test {ID}\n    at smoke (/var/task/smoke.js:{L}:9)\n    at Runtime.handler (/var/task/index.js:{L}:3)"}`,
		},
		{
			hint: "node-saveOrder-ConditionalCheckFailed-powertools", runtime: "nodejs20.x, Powertools logger",
			tmpl: `{"level":"ERROR","message":"Failed to process record","timestamp":"{TS}","service":"orders","cold_start":false,"function_request_id":"{REQ}","xray_trace_id":"1-6743a1b2-{DEP}","error":{"name":"ConditionalCheckFailedException","location":"/var/task/node_modules/@aws-sdk/client-dynamodb/dist-cjs/index.js:{L}","message":"The conditional request failed","stack":"ConditionalCheckFailedException: The conditional request failed\n    at throwDefaultError (/var/task/node_modules/@smithy/smithy-client/dist-cjs/index.js:{L}:20)\n    at /var/task/node_modules/@smithy/smithy-client/dist-cjs/index.js:{L}:5\n    at async saveOrder (/var/task/src/repo.js:{L}:7)\n    at async Runtime.handler (/var/task/index.js:{L}:9)"}}`,
		},
		{
			hint: "node-anonymous-esm-Error", runtime: "nodejs20.x ESM, anonymous arrow function", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tInvoke Error \t{"errorType":"Error","errorMessage":"BUCKET is not set","stack":["Error: BUCKET is not set","    at file:///var/task/config.mjs:{L}:11","    at ModuleJob.run (node:internal/modules/esm/module_job:234:25)","    at async Runtime.handler (file:///var/task/index.mjs:{L}:3)"]}`,
		},

		// ---- Python ----
		{
			hint: "py-lambda_handler-KeyError", runtime: "python3.12", text: true, n: 3,
			tmpl: `[ERROR] KeyError: 'user_id'\nTraceback (most recent call last):\n\u00a0\u00a0File "/var/task/lambda_function.py", line {L}, in lambda_handler\n\u00a0\u00a0\u00a0\u00a0user = event['user_id']`,
		},
		{
			hint: "py-get_profile-KeyError", runtime: "python3.12 (near-miss: same type, other function)", text: true,
			tmpl: `[ERROR] KeyError: 'user_id'\nTraceback (most recent call last):\n\u00a0\u00a0File "/var/task/lambda_function.py", line {L}, in lambda_handler\n\u00a0\u00a0\u00a0\u00a0return get_profile(event)\n\u00a0\u00a0File "/var/task/profiles.py", line {L}, in get_profile\n\u00a0\u00a0\u00a0\u00a0uid = event['user_id']`,
		},
		{
			hint: "py-lambda_handler-TypeError", runtime: "python3.12 (near-miss: other type, same function)", text: true,
			tmpl: `[ERROR] TypeError: string indices must be integers, not 'str'\nTraceback (most recent call last):\n\u00a0\u00a0File "/var/task/lambda_function.py", line {L}, in lambda_handler\n\u00a0\u00a0\u00a0\u00a0user = event['user_id']`,
		},
		{
			hint: "py-charge-PaymentError-logger", runtime: "python3.11 logger.exception", text: true,
			tmpl: `[ERROR]\t{TS}\t{REQ}\tFailed to charge order {ID}\nTraceback (most recent call last):\n  File "/var/task/app/payments.py", line {L}, in charge\n    resp = client.charge(amount)\n  File "/var/task/app/client.py", line {L}, in charge\n    raise PaymentError(f"declined: {code}")\napp.client.PaymentError: declined: card_declined`,
		},
		{
			hint: "py-get_item-NotFound-during-handling", runtime: "python container, chained (context)", text: true,
			tmpl: `Traceback (most recent call last):\n  File "/app/svc/db.py", line {L}, in fetch\n    row = cur.fetchone()[0]\n          ~~~~~~~~~~~~~~^^^\nTypeError: 'NoneType' object is not subscriptable\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File "/app/svc/api.py", line {L}, in get_item\n    return db.fetch(item_id)\n  File "/app/svc/db.py", line {L}, in fetch\n    raise NotFound(item_id)\nsvc.errors.NotFound: {ID}`,
		},
		{
			hint: "py-load_config-ConfigError-direct-cause", runtime: "python container, chained (raise from)", text: true,
			tmpl: `Traceback (most recent call last):\n  File "/app/svc/config.py", line {L}, in load_config\n    return json.loads(raw)\n  File "/usr/local/lib/python3.12/json/__init__.py", line 346, in loads\n    return _default_decoder.decode(s)\n  File "/usr/local/lib/python3.12/json/decoder.py", line 337, in decode\n    obj, end = self.raw_decode(s, idx=_w(s, 0).end())\njson.decoder.JSONDecodeError: Expecting value: line 1 column {N} (char {N})\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File "/app/svc/main.py", line {L}, in <module>\n    cfg = load_config(path)\n  File "/app/svc/config.py", line {L}, in load_config\n    raise ConfigError(f"bad config {path}") from e\nsvc.config.ConfigError: bad config /etc/svc/{DEP}.json`,
		},
		{
			hint: "py-handler-ZeroDivisionError-runtime-json", runtime: "python3.12 runtime error JSON",
			tmpl: `{"errorMessage": "division by zero", "errorType": "ZeroDivisionError", "requestId": "{REQ}", "stackTrace": ["  File \"/var/task/handler.py\", line {L}, in handler\n    return total / count\n"]}`,
		},
		{
			hint: "py-handler-ValueError-jsonlog", runtime: "python3.12 JSON log format",
			tmpl: `{"timestamp":"{TS}","level":"ERROR","message":"invalid literal for int() with base 10: 'abc{ID}'","logger":"root","requestId":"{REQ}","errorType":"ValueError","errorMessage":"invalid literal for int() with base 10: 'abc{ID}'","stackTrace":["  File \"/var/task/app.py\", line {L}, in handler\n    qty = int(event[\"qty\"])\n"]}`,
		},
		{
			hint: "py-process-RuntimeError-structlog", runtime: "python container, structlog",
			tmpl: `{"event": "job failed", "level": "error", "timestamp": "{TS}", "job_id": {ID}, "exception": "Traceback (most recent call last):\n  File \"/srv/worker/tasks.py\", line {L}, in run\n    result = process(job)\n  File \"/srv/worker/tasks.py\", line {L}, in process\n    raise RuntimeError(f\"job {job.id} exceeded retries\")\nRuntimeError: job {ID} exceeded retries"}`,
		},
		{
			hint: "py-save-ClientError-powertools", runtime: "python3.12, Powertools logger, boto in a layer",
			tmpl: `{"level":"ERROR","location":"handler:{L}","message":"Failed to save order {ID}","timestamp":"{TS}","service":"payments","cold_start":false,"function_name":"payments","function_request_id":"{REQ}","exception":"Traceback (most recent call last):\n  File \"/var/task/app.py\", line {L}, in save\n    table.put_item(Item=item)\n  File \"/opt/python/lib/python3.12/site-packages/boto3/resources/factory.py\", line 581, in do_action\n    response = action(self, *args, **kwargs)\n  File \"/opt/python/lib/python3.12/site-packages/botocore/client.py\", line 1023, in _make_api_call\n    raise error_class(parsed_response, operation_name)\nbotocore.exceptions.ClientError: An error occurred (ValidationException) when calling the PutItem operation: One or more parameter values were invalid: Missing the key pk in the item","exception_name":"ClientError","xray_trace_id":"1-6743a1b2-{DEP}"}`,
		},
		{
			hint: "py-requests-ConnectionError-runtime-only", runtime: "python container, only library frames", text: true,
			tmpl: `Traceback (most recent call last):\n  File "/usr/local/lib/python3.12/site-packages/urllib3/connection.py", line 203, in _new_conn\n    sock = connection.create_connection(\n  File "/usr/local/lib/python3.12/site-packages/requests/adapters.py", line 700, in send\n    raise ConnectionError(e, request=request)\nrequests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.partner.example', port=443): Max retries exceeded with url: /v1/orders/{ID} (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))`,
		},

		// ---- Java / JVM ----
		{
			hint: "java-validate-IllegalStateException-lambda", runtime: "java21 runtime error JSON",
			tmpl: `{"errorMessage":"Order {ID} has no items","errorType":"java.lang.IllegalStateException","stackTrace":["com.acme.orders.OrderService.validate(OrderService.java:{L})","com.acme.orders.Handler.handleRequest(Handler.java:{L})","java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(Unknown Source)","java.base/java.lang.reflect.Method.invoke(Unknown Source)"]}`,
		},
		{
			hint: "java-open-ConnectException-cause-lambda", runtime: "java21 runtime error JSON with cause",
			tmpl: `{"errorMessage":"java.net.ConnectException: Connection refused","errorType":"java.lang.RuntimeException","stackTrace":["com.acme.db.Pool.get(Pool.java:{L})","com.acme.orders.Handler.handleRequest(Handler.java:{L})","java.base/java.lang.reflect.Method.invoke(Unknown Source)"],"cause":{"errorMessage":"Connection refused","errorType":"java.net.ConnectException","stackTrace":["java.base/sun.nio.ch.Net.connect0(Native Method)","java.base/sun.nio.ch.Net.connect(Unknown Source)","com.acme.db.Pool.open(Pool.java:{L})","com.acme.db.Pool.get(Pool.java:{L})"]}}`,
		},
		{
			hint: "java-NameFormatter-NPE-completion", runtime: "java container, logback, lambdas and ... N more", text: true,
			tmpl: `{TS} ERROR [pool-1-thread-{N}] c.a.batch.Worker - batch {ID} failed\njava.util.concurrent.CompletionException: java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null\n\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:315)\n\tat java.base/java.util.concurrent.CompletableFuture.completeThrowable(CompletableFuture.java:320)\n\tat com.acme.batch.Worker.lambda$run$0(Worker.java:{L})\n\tat com.acme.batch.Worker$$Lambda${N}/0x0000{DEP}.apply(Unknown Source)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)\nCaused by: java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null\n\tat com.acme.batch.NameFormatter.format(NameFormatter.java:{L})\n\tat com.acme.batch.Worker.lambda$run$0(Worker.java:{L})\n\t... {N} more`,
		},
		{
			hint: "java-Exporter-IOException-suppressed", runtime: "java container, Suppressed and Caused by", text: true,
			tmpl: `java.io.IOException: export {ID} failed\n\tat com.acme.io.Exporter.flush(Exporter.java:{L})\n\tat com.acme.io.Exporter.close(Exporter.java:{L})\n\tat com.acme.io.Job.run(Job.java:{L})\n\tSuppressed: java.lang.IllegalStateException: stream closed\n\t\tat com.acme.io.Buffer.release(Buffer.java:{L})\n\t\tat com.acme.io.Exporter.close(Exporter.java:{L})\n\t\t... 1 more\nCaused by: java.net.SocketTimeoutException: Read timed out\n\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)\n\tat java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)\n\tat com.acme.io.Exporter.send(Exporter.java:{L})\n\tat com.acme.io.Exporter.flush(Exporter.java:{L})\n\t... 2 more`,
		},
		{
			hint: "java-Regions.parse-IllegalArgumentException", runtime: "java container, Exception in thread", text: true,
			tmpl: `Exception in thread "main" java.lang.IllegalArgumentException: Unknown region: eu-{ID}\n\tat com.acme.config.Regions.parse(Regions.java:{L})\n\tat com.acme.config.Settings.load(Settings.java:{L})\n\tat com.acme.App.main(App.java:{L})`,
		},
		{
			hint: "java-Regions.lookup-IllegalArgumentException", runtime: "java container (near-miss: same type, other function)", text: true,
			tmpl: `Exception in thread "main" java.lang.IllegalArgumentException: Unknown region: eu-{ID}\n\tat com.acme.config.Regions.lookup(Regions.java:{L})\n\tat com.acme.config.Settings.load(Settings.java:{L})\n\tat com.acme.App.main(App.java:{L})`,
		},
		{
			hint: "java-Regions.parse-NumberFormatException", runtime: "java container (near-miss: other type, same function)", text: true,
			tmpl: `Exception in thread "main" java.lang.NumberFormatException: For input string: "x{ID}"\n\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)\n\tat java.base/java.lang.Integer.parseInt(Integer.java:662)\n\tat com.acme.config.Regions.parse(Regions.java:{L})\n\tat com.acme.config.Settings.load(Settings.java:{L})\n\tat com.acme.App.main(App.java:{L})`,
		},
		{
			hint: "java-Invoices.verify-log4j2-json", runtime: "java container, log4j2 JsonLayout",
			tmpl: `{"instant":{"epochSecond":{EPOCH},"nanoOfSecond":{ID}},"thread":"http-nio-8080-exec-{N}","level":"ERROR","loggerName":"com.acme.billing.Billing","message":"invoice failed","thrown":{"commonElementCount":0,"localizedMessage":"Invoice {ID} total mismatch","message":"Invoice {ID} total mismatch","name":"com.acme.billing.TotalMismatchException","extendedStackTrace":[{"class":"com.acme.billing.Invoices","method":"verify","file":"Invoices.java","line":{L},"exact":true,"location":"classes/","version":"?"},{"class":"com.acme.billing.Billing","method":"close","file":"Billing.java","line":{L},"exact":true,"location":"classes/","version":"?"},{"class":"org.springframework.aop.framework.ReflectiveMethodInvocation","method":"proceed","file":"ReflectiveMethodInvocation.java","line":186,"exact":false,"location":"spring-aop-6.1.1.jar","version":"6.1.1"}]},"endOfBatch":false,"loggerFqcn":"org.apache.logging.log4j.spi.AbstractLogger","threadId":{N},"threadPriority":5}`,
		},
		{
			hint: "java-UserRepo.find-KotlinNPE", runtime: "kotlin on java21, coroutine class", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tkotlin.KotlinNullPointerException\n\tat com.acme.app.UserRepo.find(UserRepo.kt:{L})\n\tat com.acme.app.UserRepo$find${N}.invokeSuspend(UserRepo.kt:{L})\n\tat kotlin.coroutines.jvm.internal.BaseContinuationImpl.resumeWith(ContinuationImpl.kt:33)`,
		},
		{
			hint: "java-SocketTimeout-connect-runtime-only", runtime: "java container, only JDK frames", text: true,
			tmpl: `java.net.SocketTimeoutException: Connect timed out\n\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:551)\n\tat java.base/sun.nio.ch.NioSocketImpl.connect(NioSocketImpl.java:602)\n\tat java.base/java.net.Socket.connect(Socket.java:633)`,
		},
		{
			hint: "java-SocketTimeout-read-runtime-only", runtime: "java container (near-miss: identical JDK frames, other message)", text: true,
			tmpl: `java.net.SocketTimeoutException: Read timed out\n\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:551)\n\tat java.base/sun.nio.ch.NioSocketImpl.connect(NioSocketImpl.java:602)\n\tat java.base/java.net.Socket.connect(Socket.java:633)`,
		},

		// ---- Go ----
		{
			hint: "go-pickItem-index-out-of-range-lambda", runtime: "provided.al2023, aws-lambda-go error JSON",
			tmpl: `{"errorMessage":"runtime error: index out of range [{N}] with length {N}","errorType":"boundsError","stackTrace":[{"path":"github.com/aws/aws-lambda-go@v1.47.0/lambda/errors.go","line":39,"label":"lambdaPanicResponse"},{"path":"github.com/aws/aws-lambda-go@v1.47.0/lambda/invoke_loop.go","line":104,"label":"callBytesHandlerFunc.func1"},{"path":"runtime/panic.go","line":785,"label":"gopanic"},{"path":"runtime/panic.go","line":115,"label":"goPanicIndex"},{"path":"github.com/acme/orders/main.go","line":{L},"label":"pickItem"},{"path":"github.com/acme/orders/main.go","line":{L},"label":"handler"}],"shouldExit":false}`,
		},
		{
			hint: "go-handleOrder-panic-custom", runtime: "go container, panic with goroutine dump", text: true, n: 3,
			tmpl: `panic: order {ID}: missing customer\n\ngoroutine {GID} [running]:\nmain.mustCustomer(...)\n\t/build/{DEP}/cmd/api/orders.go:{L}\nmain.handleOrder({HEX}, {HEX})\n\t/build/{DEP}/cmd/api/orders.go:{L} +0x1c5\nnet/http.HandlerFunc.ServeHTTP({HEX}, {{HEX}, {HEX}}, {HEX})\n\t/usr/local/go/src/net/http/server.go:2220 +0x29\nnet/http.(*conn).serve({HEX}, {{HEX}, {HEX}})\n\t/usr/local/go/src/net/http/server.go:2092 +0x5d0\ncreated by net/http.(*Server).Serve in goroutine 1\n\t/usr/local/go/src/net/http/server.go:3360 +0x485\n\ngoroutine 1 [IO wait]:\ninternal/poll.runtime_pollWait({HEX}, 0x72)\n\t/usr/local/go/src/runtime/netpoll.go:351 +0x85\nmain.main()\n\t/build/{DEP}/cmd/api/main.go:{L} +0x2b9`,
		},
		{
			hint: "go-handleOrder-panic-nil-map", runtime: "go container (near-miss: other panic in the same function)", text: true,
			tmpl: `panic: assignment to entry in nil map\n\ngoroutine {GID} [running]:\nmain.handleOrder({HEX}, {HEX})\n\t/build/{DEP}/cmd/api/orders.go:{L} +0x1c5\nnet/http.HandlerFunc.ServeHTTP({HEX}, {{HEX}, {HEX}}, {HEX})\n\t/usr/local/go/src/net/http/server.go:2220 +0x29\ncreated by net/http.(*Server).Serve in goroutine 1\n\t/usr/local/go/src/net/http/server.go:3360 +0x485`,
		},
		{
			hint: "go-Consumer.Start-closure-panic", runtime: "go container, closure .funcN", text: true,
			tmpl: `panic: runtime error: slice bounds out of range [:{N}] with capacity {N}\n\ngoroutine {GID} [running]:\ngithub.com/acme/worker/queue.(*Consumer).Start.func1()\n\t/home/runner/work/worker/{DEP}/queue/consumer.go:{L} +0x{DEP}\ncreated by github.com/acme/worker/queue.(*Consumer).Start in goroutine 1\n\t/home/runner/work/worker/{DEP}/queue/consumer.go:{L} +0x9c`,
		},
		{
			hint: "go-Store.Put-concurrent-map-writes", runtime: "go container, fatal error", text: true,
			tmpl: `fatal error: concurrent map writes\n\ngoroutine {GID} [running]:\ngithub.com/acme/cache.(*Store).Put({HEX}, {{HEX}, 0x8}, {{HEX}, {HEX}})\n\t/src/cache/store.go:{L} +0x8e\ngithub.com/acme/cache.(*Loader).refresh.func2()\n\t/src/cache/loader.go:{L} +0x4a\ncreated by github.com/acme/cache.(*Loader).refresh in goroutine {GID}\n\t/src/cache/loader.go:{L} +0x1d4\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/src/main.go:{L} +0x1f`,
		},
		{
			hint: "go-publish-slog-no-stack", runtime: "go container, slog JSON, no stack",
			tmpl: `{"time":"{TS}","level":"ERROR","msg":"failed to publish","topic":"orders","partition":{N},"error":"dial tcp {IP}:9092: connect: connection refused"}`,
		},
		{
			hint: "go-consume-slog-no-stack", runtime: "go container, slog JSON (near-miss: other message, same error)",
			tmpl: `{"time":"{TS}","level":"ERROR","msg":"failed to consume","topic":"orders","partition":{N},"error":"dial tcp {IP}:9092: connect: connection refused"}`,
		},
		{
			hint: "go-Server.handle-zap-stacktrace", runtime: "go container, zap with stacktrace",
			tmpl: `{"level":"error","ts":{EPOCH}.{N},"caller":"server/handler.go:{L}","msg":"request failed","request_id":"{REQ}","error":"context deadline exceeded","stacktrace":"github.com/acme/api/server.(*Server).handle\n\t/app/server/handler.go:{L}\nnet/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2171\nnet/http.(*ServeMux).ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2688"}`,
		},

		// ---- .NET ----
		{
			hint: "dotnet-GetCustomer-NullReference-lambda", runtime: "dotnet8 runtime error JSON",
			tmpl: `{"errorType":"NullReferenceException","errorMessage":"Object reference not set to an instance of an object.","stackTrace":["at Orders.Function.GetCustomer(String id) in /src/Orders/Function.cs:line {L}","at Orders.Function.FunctionHandler(APIGatewayProxyRequest request, ILambdaContext context) in /src/Orders/Function.cs:line {L}","at lambda_method1(Closure, Stream, ILambdaContext, Stream)","at Amazon.Lambda.RuntimeSupport.HandlerWrapper.<>c__DisplayClass8_0.<GetHandlerWrapper>b__0(InvocationRequest invocation)","at Amazon.Lambda.RuntimeSupport.LambdaBootstrap.InvokeOnceAsync(CancellationToken cancellationToken)"]}`,
		},
		{
			hint: "dotnet-InsertAsync-InvalidOperation-inner", runtime: "dotnet container, fail: with ---> inner exception", text: true,
			tmpl: `fail: Orders.Api.OrdersController[0]\n      Unhandled exception processing order {ID}\n      System.InvalidOperationException: Order {ID} could not be saved\n       ---> Npgsql.PostgresException (0x80004005): 23505: duplicate key value violates unique constraint "orders_pkey"\n         at Npgsql.Internal.NpgsqlConnector.ReadMessageLong(Boolean async, DataRowLoadingMode dataRowLoadingMode, Boolean readingNotifications, Boolean isReadingPrependedMessage)\n         at Orders.Data.OrderRepository.InsertAsync(Order order) in /src/Orders/Data/OrderRepository.cs:line {L}\n         --- End of inner exception stack trace ---\n         at Orders.Data.OrderRepository.InsertAsync(Order order) in /src/Orders/Data/OrderRepository.cs:line {L}\n         at Orders.Api.OrdersController.<Create>d__{N}.MoveNext() in /src/Orders/Api/OrdersController.cs:line {L}`,
		},
		{
			hint: "dotnet-ConfigureServices-ArgumentNull-crit", runtime: "dotnet container, crit: with async frames", text: true,
			tmpl: `crit: Microsoft.AspNetCore.Hosting.Diagnostics[6]\n      Application startup exception\n      System.ArgumentNullException: Value cannot be null. (Parameter 'connectionString')\n         at Npgsql.NpgsqlConnection..ctor(String connectionString)\n         at Shop.Startup.ConfigureServices(IServiceCollection services) in /app/{DEP}/Shop/Startup.cs:line {L}\n      --- End of stack trace from previous location ---\n         at Microsoft.AspNetCore.Hosting.GenericWebHostBuilder.UseStartup(Type startupType, HostBuilderContext context, IServiceCollection services, Object instance)`,
		},
		{
			hint: "dotnet-ReceiveAsync-Timeout-serilog", runtime: "dotnet container, Serilog CLEF",
			tmpl: `{"@t":"{TS}","@mt":"Failed to process message {MessageId}","@l":"Error","@x":"System.TimeoutException: The operation has timed out after {N}00ms.\n   at Shop.Queue.Consumer.ReceiveAsync(CancellationToken ct) in C:\\build\\{DEP}\\Shop\\Queue\\Consumer.cs:line {L}\n   at Shop.Queue.Worker.ExecuteAsync(CancellationToken stoppingToken) in C:\\build\\{DEP}\\Shop\\Queue\\Worker.cs:line {L}","MessageId":"{UUID}","SourceContext":"Shop.Queue.Worker"}`,
		},
		{
			hint: "dotnet-Catalog.Load-FileNotFound-jsonconsole", runtime: "dotnet container, JSON console formatter",
			tmpl: `{"EventId":0,"LogLevel":"Error","Category":"Shop.Api.Program","Message":"Unhandled exception","Exception":"System.IO.FileNotFoundException: Could not find file '/app/data/{ID}.json'.\nFile name: '/app/data/{ID}.json'\n   at Microsoft.Win32.SafeHandles.SafeFileHandle.Open(String fullPath, FileMode mode, FileAccess access, FileShare share, FileOptions options, Int64 preallocationSize)\n   at Shop.Api.Catalog.Load(String id) in /src/Shop.Api/Catalog.cs:line {L}","State":{"Message":"Unhandled exception","{OriginalFormat}":"Unhandled exception"}}`,
		},
		{
			hint: "dotnet-Catalog.Save-InvalidOperation", runtime: "dotnet container (near-miss: same type as the inner-exception bug, other function)", text: true,
			tmpl: `{TS}\t{REQ}\tfail\tSystem.InvalidOperationException: Order {ID} could not be saved\n   at Shop.Api.Catalog.Save(Item item) in /src/Shop.Api/Catalog.cs:line {L}\n   at Shop.Api.Function.FunctionHandler(Item input, ILambdaContext context) in /src/Shop.Api/Function.cs:line {L}`,
		},

		// ---- Ruby ----
		{
			hint: "ruby-shout-NoMethodError-lambda", runtime: "ruby3.3 runtime error JSON",
			tmpl: "{\"errorMessage\":\"undefined method `upcase' for nil\",\"errorType\":\"Function<NoMethodError>\",\"stackTrace\":[\"/var/task/lib/formatter.rb:{L}:in `shout'\",\"/var/task/function.rb:{L}:in `handler'\"]}",
		},
		{
			hint: "ruby-parse_row-ArgumentError", runtime: "ruby container, uncaught", text: true,
			tmpl: "/var/task/app/importer.rb:{L}:in `parse_row': invalid date \"2026-11-{N}\" (ArgumentError)\\n\\tfrom /var/task/app/importer.rb:{L}:in `block in import'\\n\\tfrom /var/task/vendor/bundle/ruby/3.3.0/gems/csv-3.2.8/lib/csv.rb:1906:in `each'\\n\\tfrom /var/task/app/importer.rb:{L}:in `import'",
		},
		{
			hint: "ruby-Billing.charge-CardDeclined-ruby34", runtime: "ruby 3.4 quotes", text: true,
			tmpl: `app/services/billing.rb:{L}:in 'Billing#charge!': card declined for customer {ID} (Billing::CardDeclined)\n\tfrom app/jobs/charge_job.rb:{L}:in 'ChargeJob#perform'\n\tfrom /usr/local/bundle/gems/activejob-7.2.1/lib/active_job/execution.rb:68:in 'ActiveJob::Execution#perform_now'`,
		},
		{
			hint: "ruby-loadword-NoMethodError-rails", runtime: "ruby container, Rails (near-miss of the conformance example: other method)", text: true,
			tmpl: " NoMethodError (undefined method `resursivewordload' for #<BooksController:0x007f8d{DEP}>):\\n  app/controllers/books_controller.rb:{L}:in `loadword'\\n  app/controllers/books_controller.rb:{L}:in `loadline'\\n  config/error_reporting_logger.rb:62:in `tagged'",
		},

		// ---- PHP ----
		{
			hint: "php-Gateway.charge-RuntimeException", runtime: "php on Lambda (bref)", text: true,
			tmpl: `PHP Fatal error:  Uncaught RuntimeException: Payment {ID} failed in /var/task/src/Billing/Gateway.php:{L}\nStack trace:\n#0 /var/task/src/Billing/Service.php({L}): App\Billing\Gateway->charge(Object(App\Billing\Payment))\n#1 /var/task/vendor/bref/bref/src/Runtime/Invoker.php(29): App\Billing\Service->handle(Array)\n#2 {main}\n  thrown in /var/task/src/Billing/Gateway.php on line {L}`,
		},
		{
			hint: "php-Repo.find-Next-chain", runtime: "php container, previous exception (Next)", text: true,
			tmpl: `PHP Fatal error:  Uncaught PDOException: SQLSTATE[HY000] [2002] Connection refused in /srv/app/src/Db.php:{L}\nStack trace:\n#0 /srv/app/src/Db.php({L}): PDO->__construct('mysql:host={IP}', 'app', Object(SensitiveParameterValue))\n#1 /srv/app/src/Repo.php({L}): App\Db->connect()\n#2 {main}\n\nNext App\RepositoryException: could not load user {ID} in /srv/app/src/Repo.php:{L}\nStack trace:\n#0 /srv/app/public/index.php({L}): App\Repo->find({ID})\n#1 {main}\n  thrown in /srv/app/src/Repo.php on line {L}`,
		},
		{
			hint: "php-Report-memory-exhausted", runtime: "php container, fatal error without exception", text: true,
			tmpl: `PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate {ID} bytes) in /var/task/{DEP}/src/Report.php on line {L}`,
		},

		// ---- Lambda platform failures ----
		{
			hint: "platform-timeout-orders-api", runtime: "any", logGroup: "/aws/lambda/orders-api", n: 3,
			tmpl: `{TS} {REQ} Task timed out after {N}.00 seconds`,
		},
		{
			hint: "platform-timeout-billing", runtime: "any (near-miss: same failure, other function)", logGroup: "/aws/lambda/billing",
			tmpl: `{TS} {REQ} Task timed out after 3.00 seconds`,
		},
		{
			hint: "platform-runtime-exit-orders-api", runtime: "any", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `RequestId: {REQ} Error: Runtime exited with error: exit status {N}\nRuntime.ExitError`,
		},
		{
			hint: "platform-oom-orders-api", runtime: "any", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `REPORT RequestId: {REQ}\tDuration: {ID}.12 ms\tBilled Duration: {ID} ms\tMemory Size: 512 MB\tMax Memory Used: 512 MB\tStatus: error\tError Type: Runtime.OutOfMemory`,
		},
		{
			hint: "platform-init-error-orders-api", runtime: "python3.12 / INIT_REPORT", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'\nTraceback (most recent call last):`,
		},
		{
			hint: "platform-init-error-billing", runtime: "nodejs20.x (near-miss: other function)", logGroup: "/aws/lambda/billing", text: true,
			tmpl: `{TS}\tundefined\tERROR\tUncaught Exception \t{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module 'aws-sdk'{NL}Require stack:{NL}- /var/task/index.js{NL}- /var/runtime/index.mjs","stack":["Runtime.ImportModuleError: Error: Cannot find module 'aws-sdk'","Require stack:","- /var/task/index.js","- /var/runtime/index.mjs","    at _loadUserApp (file:///var/runtime/index.mjs:1087:17)","    at async UserFunction.js.module.exports.load (file:///var/runtime/index.mjs:1119:21)"]}`,
		},

		{
			id: "platform-report-timeout-orders-api", hint: "platform-timeout-orders-api", runtime: "any, REPORT line", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `REPORT RequestId: {REQ}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: {N} MB\tStatus: timeout`,
		},
		{
			id: "platform-oom-report-exit-orders-api", hint: "platform-oom-orders-api", runtime: "any, REPORT with memory exhausted", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `REPORT RequestId: {REQ}\tDuration: {ID}.50 ms\tBilled Duration: {ID} ms\tMemory Size: 512 MB\tMax Memory Used: 512 MB\tStatus: error\tError Type: Runtime.ExitError`,
		},
		{
			hint: "platform-init-report-orders-api", runtime: "any, INIT_REPORT of a type the runtime's own line reports (dropped as its duplicate)", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `INIT_REPORT Init Duration: {ID}.45 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError`,
		},
		{
			hint: "platform-oom-killed-billing", runtime: "any: Lambda kills a function out of memory (near-miss: other function)", logGroup: "/aws/lambda/billing", text: true,
			tmpl: `RequestId: {REQ} Error: Runtime exited with error: signal: killed\nRuntime.ExitError`,
		},

		// ---- Loggers that put a message before the error ----
		{
			hint: "node-loadConfig-console-preamble", runtime: "nodejs20.x console.error(msg, err)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tFailed to load config for tenant {ID}: Error: ENOENT: no such file or directory, open '/tmp/cfg-{ID}.json'\n    at Object.openSync (node:fs:573:18)\n    at loadConfig (/var/task/src/config.js:{L}:9)\n    at Runtime.handler (/var/task/index.js:{L}:15)`,
		},
		{
			hint: "ruby-logger-NoMethodError", runtime: "ruby container, Logger", text: true,
			tmpl: "E, [{TS} #{N}] ERROR -- worker: undefined method `fetch' for nil (NoMethodError)\n/srv/app/lib/sync.rb:{L}:in `pull'\n/srv/app/lib/sync.rb:{L}:in `run'",
		},
		{
			hint: "dotnet-Cart.Total-unhandled-console", runtime: "dotnet console app", text: true,
			tmpl: `Unhandled exception. System.InvalidOperationException: Sequence contains no elements\n   at System.Linq.ThrowHelper.ThrowNoElementsException()\n   at System.Linq.Enumerable.First[TSource](IEnumerable` + "`" + `1 source)\n   at Shop.Cart.Total() in /build/{DEP}/src/Cart.cs:line {L}\n   at Shop.Program.Main(String[] args) in /build/{DEP}/src/Program.cs:line {L}`,
		},
		{
			hint: "go-sigquit-dump-runtime-only", runtime: "go container, SIGQUIT goroutine dump", text: true,
			tmpl: `SIGQUIT: quit\nPC={HEX} m=0 sigcode=0\n\ngoroutine 0 gp={HEX} m=0 mp={HEX} [idle]:\nruntime.futex({HEX}, 0x80, 0x0, 0x0, 0x0, 0x0)\n\t/usr/local/go/src/runtime/sys_linux_amd64.s:557 +0x21\nruntime.futexsleep({HEX}, 0x0, 0xffffffffffffffff)\n\t/usr/local/go/src/runtime/os_linux.go:69 +0x30\n\ngoroutine {GID} [select]:\nmain.worker()\n\t/app/main.go:{L} +0x8d`,
		},

		// ---- Flattened field names: ECS and OpenTelemetry ----
		{
			hint: "java-Shipments.book-ecs-json", runtime: "java container, ECS logging (flattened error.* fields)",
			tmpl: `{"@timestamp":"{TS}","log.level":"ERROR","message":"booking failed","ecs.version":"1.2.0","service.name":"shipping","process.thread.name":"worker-{N}","log.logger":"com.acme.shipping.Shipments","error.type":"com.acme.shipping.CarrierRejectedException","error.message":"carrier rejected shipment {ID}","error.stack_trace":"com.acme.shipping.CarrierRejectedException: carrier rejected shipment {ID}\n\tat com.acme.shipping.Shipments.book(Shipments.java:{L})\n\tat com.acme.shipping.Worker.run(Worker.java:{L})\n\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"}`,
		},
		{
			hint: "py-export-otel-exception-fields", runtime: "python container, OpenTelemetry log record (exception.* attributes)",
			tmpl: `{"body":"export failed","severity_text":"ERROR","attributes":{"exception.type":"PermissionError"},"exception.type":"PermissionError","exception.message":"[Errno 13] Permission denied: '/data/out-{ID}.csv'","exception.stacktrace":"Traceback (most recent call last):\n  File \"/srv/exporter/export.py\", line {L}, in export\n    with open(path, \"w\") as fh:\nPermissionError: [Errno 13] Permission denied: '/data/out-{ID}.csv'","trace_id":"{DEP}"}`,
		},

		// ---- Go errors returned (not panics) from aws-lambda-go: no stack ----
		{
			hint: "go-errorString-order-not-found", runtime: "provided.al2023, returned error", n: 3,
			tmpl: `{"errorMessage":"order {ID} not found","errorType":"errorString"}`,
		},
		{
			hint: "go-wrapError-fetch-order", runtime: "provided.al2023, returned wrapped error (near-miss: other message)",
			tmpl: `{"errorMessage":"fetch order {ID}: dial tcp {IP}:5432: connect: connection refused","errorType":"wrapError"}`,
		},

		// ---- Plain text, no type, no stack ----
		{
			hint: "text-db-connect-failed", runtime: "any, plain text", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tcould not connect to database at {IP}:5432 after {N} attempts (request {UUID})`,
		},
		{
			hint: "text-user-not-found", runtime: "any, plain text (near-miss: other message)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tuser {EMAIL} not found in tenant "t-{ID}", id={ID}`,
		},
	}
}
