package grouping

// corpusBugsV2: the formats real fleets print (containers, RDS, API Gateway,
// Step Functions, the Lambda JSON platform records, PHP on Lambda, Rust, Go
// loggers, nginx, Kotlin coroutines, exception groups) and the quality rules
// learned the hard way, each with near-misses.
func corpusBugsV2() []corpusBug {
	const sfnArn = `arn:aws:states:eu-west-1:123456789012:execution:`
	return []corpusBug{
		// ---- Container wrappers: the error is the wrapped line; pods are context.
		{
			hint: "k8s-node-priceOf-TypeError", runtime: "EKS, Fluent Bit JSON", n: 4,
			tmpl: `{"log":"TypeError: Cannot read properties of undefined (reading 'sku')\n    at priceOf (/app/src/cart.js:{L}:19)\n    at checkout (/app/src/cart.js:{L}:10)\n","stream":"stderr","time":"{TS}","kubernetes":{"pod_name":"cart-{DEP}-x{N}","namespace_name":"shop","container_name":"cart","host":"ip-10-0-{N}-{N}.ec2.internal"}}`,
		},
		{
			hint: "k8s-node-totalOf-TypeError", runtime: "EKS, Fluent Bit JSON (near-miss: same error, other function)",
			tmpl: `{"log":"TypeError: Cannot read properties of undefined (reading 'sku')\n    at totalOf (/app/src/cart.js:{L}:19)\n    at checkout (/app/src/cart.js:{L}:10)\n","stream":"stderr","time":"{TS}","kubernetes":{"pod_name":"cart-{DEP}-x{N}","namespace_name":"shop","container_name":"cart"}}`,
		},
		{
			hint: "docker-py-handle-KeyError", runtime: "ECS, Docker JSON log driver",
			tmpl: `{"log":"Traceback (most recent call last):\n  File \"/app/worker.py\", line {L}, in handle\n    order = msg[\"order\"]\nKeyError: 'order'\n","stream":"stderr","time":"{TS}"}`,
		},
		{
			hint: "docker-py-handle_refund-KeyError", runtime: "ECS, Docker JSON (near-miss: same error, other function)",
			tmpl: `{"log":"Traceback (most recent call last):\n  File \"/app/worker.py\", line {L}, in handle_refund\n    order = msg[\"customer\"]\nKeyError: 'customer'\n","stream":"stderr","time":"{TS}"}`,
		},
		{
			hint: "container-insights-java-Stock.reserve", runtime: "Container Insights, Java on EKS",
			tmpl: `{"log":"{TS} ERROR [main] c.a.Inventory - reserve failed\njava.lang.IllegalStateException: stock for sku {ID} is negative\n\tat com.acme.inventory.Stock.reserve(Stock.java:{L})\n\tat com.acme.inventory.Api.reserve(Api.java:{L})\n","stream":"stdout","kubernetes":{"pod_name":"inventory-{DEP}","container_name":"inventory","labels":{"app":"inventory"}}}`,
		},

		// ---- RDS and Aurora PostgreSQL (default log_line_prefix), MySQL.
		{
			hint: "pg-unique-orders_pkey", runtime: "RDS PostgreSQL", logGroup: "/aws/rds/instance/orders-db/postgresql", text: true, n: 4,
			tmpl: `{TS} UTC:{IP}({N}):app@orders:[{ID}]:ERROR:  duplicate key value violates unique constraint "orders_pkey"`,
		},
		{
			hint: "pg-unique-users_email_key", runtime: "RDS PostgreSQL (near-miss: other constraint)", logGroup: "/aws/rds/instance/orders-db/postgresql", text: true,
			tmpl: `{TS} UTC:{IP}({N}):app@orders:[{ID}]:ERROR:  duplicate key value violates unique constraint "users_email_key"`,
		},
		{
			hint: "pg-fatal-auth-app_ro", runtime: "Aurora PostgreSQL", logGroup: "/aws/rds/cluster/orders/postgresql", text: true,
			tmpl: `{TS} UTC:{IP}({N}):app_ro@orders:[{ID}]:FATAL:  password authentication failed for user "app_ro"`,
		},
		{
			hint: "pg-fatal-auth-app_rw", runtime: "Aurora PostgreSQL (near-miss: other user)", logGroup: "/aws/rds/cluster/orders/postgresql", text: true,
			tmpl: `{TS} UTC:{IP}({N}):app_rw@orders:[{ID}]:FATAL:  password authentication failed for user "app_rw"`,
		},
		{
			hint: "pg-deadlock", runtime: "RDS PostgreSQL", logGroup: "/aws/rds/instance/orders-db/postgresql", text: true,
			tmpl: `{TS} UTC:{IP}({N}):app@orders:[{ID}]:ERROR:  deadlock detected`,
		},
		{
			hint: "mysql-innodb-lock", runtime: "RDS MySQL 8 error log", logGroup: "/aws/rds/instance/shop-db/error", text: true,
			tmpl: `{TS} {N} [ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11`,
		},
		{
			hint: "mysql-replica-worker", runtime: "RDS MySQL 8 error log (near-miss: other code)", logGroup: "/aws/rds/instance/shop-db/error", text: true,
			tmpl: `{TS} {N} [ERROR] [MY-010584] [Repl] Replica SQL for channel '': Worker {N} failed executing transaction 'ANONYMOUS' at source log mysql-bin.{ID}, end_log_pos {ID}`,
		},

		// ---- API Gateway execution logs.
		{
			hint: "apigw-malformed-proxy", runtime: "API Gateway execution log", logGroup: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", text: true,
			tmpl: `({UUID}) Execution failed due to configuration error: Malformed Lambda proxy response`,
		},
		{
			hint: "apigw-timeout", runtime: "API Gateway execution log (near-miss: other failure)", logGroup: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", text: true,
			tmpl: `({UUID}) Execution failed due to a timeout error`,
		},
		{
			hint: "apigw-502", runtime: "API Gateway execution log", logGroup: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", text: true,
			tmpl: `({UUID}) Method completed with status: 502`,
		},
		{
			hint: "apigw-504", runtime: "API Gateway execution log (near-miss: other status)", logGroup: "API-Gateway-Execution-Logs_a1b2c3d4e5/prod", text: true,
			tmpl: `({UUID}) Method completed with status: 504`,
		},

		// ---- Step Functions execution events.
		{
			hint: "sfn-OrderFlow-States.Timeout", runtime: "Step Functions, TaskTimedOut", logGroup: "/aws/vendedlogs/states/OrderFlow",
			tmpl: `{"id":"{N}","type":"TaskTimedOut","details":{"error":"States.Timeout","resource":"invoke","resourceType":"lambda"},"previous_event_id":"{N}","event_timestamp":"{EPOCH}","execution_arn":"` + sfnArn + `OrderFlow:{UUID}"}`,
		},
		{
			hint: "sfn-RefundFlow-States.Timeout", runtime: "Step Functions (near-miss: other state machine)", logGroup: "/aws/vendedlogs/states/RefundFlow",
			tmpl: `{"id":"{N}","type":"TaskTimedOut","details":{"error":"States.Timeout","resource":"invoke","resourceType":"lambda"},"previous_event_id":"{N}","event_timestamp":"{EPOCH}","execution_arn":"` + sfnArn + `RefundFlow:{UUID}"}`,
		},
		{
			hint: "sfn-OrderFlow-charge-declined", runtime: "Step Functions, LambdaFunctionFailed with the Lambda error as cause", logGroup: "/aws/vendedlogs/states/OrderFlow",
			tmpl: `{"id":"{N}","type":"LambdaFunctionFailed","details":{"error":"Error","cause":"{\"errorType\":\"Error\",\"errorMessage\":\"card {ID} declined\",\"trace\":[\"Error: card {ID} declined\",\"    at charge (/var/task/pay.js:{L}:11)\",\"    at Runtime.handler (/var/task/index.js:{L}:5)\"]}"},"previous_event_id":"{N}","execution_arn":"` + sfnArn + `OrderFlow:{UUID}"}`,
		},
		{
			id: "sfn-OrderFlow-charge-declined-execution", hint: "sfn-OrderFlow-charge-declined", runtime: "Step Functions, ExecutionFailed carrying the same error", logGroup: "/aws/vendedlogs/states/OrderFlow",
			tmpl: `{"id":"{N}","type":"ExecutionFailed","details":{"error":"Error","cause":"{\"errorType\":\"Error\",\"errorMessage\":\"card {ID} declined\",\"trace\":[\"Error: card {ID} declined\",\"    at charge (/var/task/pay.js:{L}:11)\",\"    at Runtime.handler (/var/task/index.js:{L}:5)\"]}"},"previous_event_id":"{N}","execution_arn":"` + sfnArn + `OrderFlow:{UUID}"}`,
		},
		{
			hint: "sfn-OrderFlow-States.Runtime", runtime: "Step Functions, ExecutionFailed (near-miss: other error)", logGroup: "/aws/vendedlogs/states/OrderFlow",
			tmpl: `{"id":"{N}","type":"ExecutionFailed","details":{"error":"States.Runtime","cause":"An error occurred while executing the state 'Charge' (entered at the event id #{N}). The JSONPath '$.order.total' specified for the field 'Amount.$' could not be found in the input '{\"order\":{\"id\":{ID}}}'"},"execution_arn":"` + sfnArn + `OrderFlow:{UUID}"}`,
		},

		// ---- The Lambda JSON log format's platform records, like their text forms.
		{
			id: "platform-json-report-timeout-orders-api", hint: "platform-timeout-orders-api", runtime: "JSON log format, platform.report", logGroup: "/aws/lambda/orders-api",
			tmpl: `{"time":"{TS}","type":"platform.report","record":{"requestId":"{REQ}","metrics":{"durationMs":3000.5,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":{N}},"status":"timeout"}}`,
		},
		{
			id: "platform-json-runtimedone-timeout-orders-api", hint: "platform-timeout-orders-api", runtime: "JSON log format, platform.runtimeDone", logGroup: "/aws/lambda/orders-api",
			tmpl: `{"time":"{TS}","type":"platform.runtimeDone","record":{"requestId":"{REQ}","status":"timeout","metrics":{"durationMs":3000.2,"producedBytes":0}}}`,
		},
		{
			id: "platform-json-oom-orders-api", hint: "platform-oom-orders-api", runtime: "JSON log format, platform.runtimeDone out of memory", logGroup: "/aws/lambda/orders-api",
			tmpl: `{"time":"{TS}","type":"platform.runtimeDone","record":{"requestId":"{REQ}","status":"error","errorType":"Runtime.OutOfMemory"}}`,
		},
		{
			id: "platform-json-initreport-orders-api", hint: "platform-init-report-orders-api", runtime: "JSON log format, platform.initReport", logGroup: "/aws/lambda/orders-api",
			tmpl: `{"time":"{TS}","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"error","errorType":"Runtime.ImportModuleError","metrics":{"durationMs":{ID}.5}}}`,
		},
		// Init failures no runtime line describes: the platform's report is the problem, one
		// per function, type and status, whatever the duration or the phase.
		{
			id: "platform-init-timeout-orders-api", hint: "platform-init-timeout-orders-api", runtime: "any, INIT_REPORT Status: timeout (the init hung)", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `INIT_REPORT Init Duration: {ID}.{N} ms\tPhase: init\tStatus: timeout`,
		},
		{
			id: "platform-init-timeout-invoke-orders-api", hint: "platform-init-timeout-orders-api", runtime: "any, INIT_REPORT of the init retried in the invoke phase", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `INIT_REPORT Init Duration: {ID}.{N} ms\tPhase: invoke\tStatus: timeout`,
		},
		{
			id: "platform-json-init-timeout-orders-api", hint: "platform-init-timeout-orders-api", runtime: "JSON log format, platform.initReport status timeout", logGroup: "/aws/lambda/orders-api",
			tmpl: `{"time":"{TS}","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"timeout","metrics":{"durationMs":{ID}.{N}}}}`,
		},
		{
			id: "platform-init-timeout-billing", hint: "platform-init-timeout-billing", runtime: "any, INIT_REPORT Status: timeout (near-miss: another function)", logGroup: "/aws/lambda/billing", text: true,
			tmpl: `INIT_REPORT Init Duration: {ID}.{N} ms\tPhase: init\tStatus: timeout`,
		},
		{
			id: "platform-init-exit-orders-api", hint: "platform-init-exit-orders-api", runtime: "any, INIT_REPORT Runtime.ExitError (the process died in init; near-miss: the timeout)", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `INIT_REPORT Init Duration: {ID}.{N} ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError`,
		},
		{
			id: "platform-json-init-exit-orders-api", hint: "platform-init-exit-orders-api", runtime: "JSON log format, platform.initReport Runtime.ExitError", logGroup: "/aws/lambda/orders-api",
			tmpl: `{"time":"{TS}","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"error","errorType":"Runtime.ExitError","metrics":{"durationMs":{ID}.{N}}}}`,
		},
		{
			id: "platform-json-timeout-billing", hint: "platform-timeout-billing", runtime: "JSON log format, the same failure as the text form", logGroup: "/aws/lambda/billing",
			tmpl: `{"time":"{TS}","type":"platform.report","record":{"requestId":"{REQ}","metrics":{"durationMs":6000.5,"billedDurationMs":6000,"memorySizeMB":256,"maxMemoryUsedMB":{N}},"status":"timeout"}}`,
		},

		// ---- PHP on Lambda: Bref, PHP-FPM, Laravel/Monolog.
		{
			hint: "php-bref-Orders.find-not-found", runtime: "Bref", logGroup: "/aws/lambda/php-api", text: true,
			tmpl: `Invoke Error {"errorType":"Exception","errorMessage":"Order {ID} not found","stack":["#0 /var/task/src/Orders.php({L}): App\\Orders->find('{ID}')","#1 /var/task/index.php({L}): App\\Orders->load()","#2 {main}"]}`,
		},
		{
			id: "php-bref-Orders.find-not-found-reqid", hint: "php-bref-Orders.find-not-found", runtime: "Bref, with its request id form", logGroup: "/aws/lambda/php-api", text: true,
			tmpl: `{TS} {DEP} Invoke Error {"errorType":"Exception","errorMessage":"Order {ID} not found","stack":["#0 /var/task/src/Orders.php({L}): App\\Orders->find('{ID}')","#1 /var/task/index.php({L}): App\\Orders->load()","#2 {main}"]}`,
		},
		{
			hint: "php-bref-Orders.find-gone", runtime: "Bref (near-miss: generic type, other message)", logGroup: "/aws/lambda/php-api", text: true,
			tmpl: `Invoke Error {"errorType":"Exception","errorMessage":"Order {ID} was deleted","stack":["#0 /var/task/src/Orders.php({L}): App\\Orders->find('{ID}')","#1 /var/task/index.php({L}): App\\Orders->load()","#2 {main}"]}`,
		},
		{
			hint: "php-fpm-undefined-format_price", runtime: "PHP-FPM wrapped (NOTICE/WARNING are FPM's)", logGroup: "/aws/lambda/php-web", text: true,
			tmpl: `[21-Nov-2026 01:02:0{N}] WARNING: [pool www] child {ID} said into stderr: "NOTICE: PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function App\format_price() in /var/task/src/Cart.php:{L}"`,
		},
		{
			hint: "php-fpm-undefined-format_total", runtime: "PHP-FPM wrapped (near-miss: other function)", logGroup: "/aws/lambda/php-web", text: true,
			tmpl: `[21-Nov-2026 01:02:0{N}] WARNING: [pool www] child {ID} said into stderr: "NOTICE: PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function App\format_total() in /var/task/src/Totals.php:{L}"`,
		},
		{
			hint: "laravel-CartController.show-null", runtime: "Laravel / Monolog", logGroup: "/aws/lambda/laravel", text: true,
			tmpl: `[{TS}] production.ERROR: Call to a member function total() on null {"userId":{ID},"exception":"[object] (Error(code: 0): Call to a member function total() on null at /var/task/app/Http/Controllers/CartController.php:{L}){NL}[stacktrace]{NL}#0 /var/task/vendor/laravel/framework/src/Illuminate/Routing/Controller.php(54): App\\Http\\Controllers\\CartController->show(){NL}#1 /var/task/vendor/laravel/framework/src/Illuminate/Routing/ControllerDispatcher.php(43): Illuminate\\Routing\\Controller->callAction(){NL}#2 {main}{NL}"}`,
		},
		{
			hint: "laravel-OrderController.show-null", runtime: "Laravel / Monolog (near-miss: other controller)", logGroup: "/aws/lambda/laravel", text: true,
			tmpl: `[{TS}] production.ERROR: Call to a member function total() on null {"userId":{ID},"exception":"[object] (Error(code: 0): Call to a member function total() on null at /var/task/app/Http/Controllers/OrderController.php:{L}){NL}[stacktrace]{NL}#0 /var/task/vendor/laravel/framework/src/Illuminate/Routing/Controller.php(54): App\\Http\\Controllers\\OrderController->show(){NL}#1 /var/task/vendor/laravel/framework/src/Illuminate/Routing/ControllerDispatcher.php(43): Illuminate\\Routing\\Controller->callAction(){NL}#2 {main}{NL}"}`,
		},

		// ---- Rust: panics, backtraces, anyhow chains.
		{
			hint: "rust-orders-unwrap-None", runtime: "provided.al2023, Rust panic", logGroup: "/aws/lambda/rust-orders", text: true,
			tmpl: "thread '{TNAME}' panicked at src/orders.rs:{L}:{N}:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
		},
		{
			hint: "rust-refunds-unwrap-None", runtime: "Rust panic (near-miss: same message, other file)", logGroup: "/aws/lambda/rust-orders", text: true,
			tmpl: "thread '{TNAME}' panicked at src/refunds.rs:{L}:{N}:\ncalled `Option::unwrap()` on a `None` value\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
		},
		{
			hint: "rust-line_total-bounds", runtime: "Rust panic with a backtrace", logGroup: "/aws/lambda/rust-orders", text: true,
			tmpl: "thread 'tokio-runtime-worker' panicked at src/handler.rs:{L}:9:\nindex out of bounds: the len is {N} but the index is {N}\nstack backtrace:\n   0: rust_begin_unwind\n             at /rustc/{DEP}/library/std/src/panicking.rs:652:5\n   1: core::panicking::panic_fmt\n             at /rustc/{DEP}/library/core/src/panicking.rs:72:14\n   2: core::panicking::panic_bounds_check\n             at /rustc/{DEP}/library/core/src/panicking.rs:275:5\n   3: orders::handler::line_total\n             at ./src/handler.rs:{L}:9\n   4: orders::handler::handle::{{closure}}\n             at ./src/handler.rs:{L}:20\n   5: tokio::runtime::task::core::Core<T,S>::poll\n             at /root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.38.0/src/runtime/task/core.rs:328:13",
		},
		{
			hint: "rust-anyhow-config-load", runtime: "Rust, anyhow error report with backtrace", logGroup: "/aws/lambda/rust-orders", text: true,
			tmpl: "Error: failed to load config from /etc/app/{DEP}.toml\n\nCaused by:\n    0: could not read file\n    1: No such file or directory (os error 2)\n\nStack backtrace:\n   0: anyhow::error::<impl anyhow::Error>::msg\n             at /root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/anyhow-1.0.86/src/error.rs:83:36\n   1: app::config::load\n             at ./src/config.rs:{L}:5\n   2: app::main\n             at ./src/main.rs:{L}:15",
		},

		// ---- Go: the standard logger's date prefix, zap, zerolog, logrus, slog.
		{
			hint: "go-stdlog-getOrder-nil", runtime: "Go, net/http panic behind the standard logger's date", logGroup: "/aws/lambda/go-api", text: true,
			tmpl: "{GODATE} http: panic serving {IP}:{N}: runtime error: invalid memory address or nil pointer dereference\ngoroutine {GID} [running]:\nnet/http.(*conn).serve.func1()\n\t/usr/local/go/src/net/http/server.go:1903 +0xbe\npanic({HEX}, {HEX})\n\t/usr/local/go/src/runtime/panic.go:770 +0x132\nmain.(*api).getOrder(...)\n\t/app/api.go:{L} +0x5d\nmain.(*api).ServeHTTP({HEX}, {HEX})\n\t/app/api.go:{L} +0x1a",
		},
		{
			hint: "go-zap-charge", runtime: "Go, zap JSON", logGroup: "/aws/lambda/go-api",
			tmpl: `{"level":"error","ts":{EPOCH}.123,"caller":"orders/handler.go:{L}","msg":"charge failed","order_id":{ID},"error":"stripe: card declined (request req_{DEP})","stacktrace":"main.(*handler).charge\n\t/app/orders/handler.go:{L}\nmain.(*handler).ServeHTTP\n\t/app/orders/handler.go:{L}\nnet/http.serverHandler.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:3142"}`,
		},
		{
			hint: "go-zerolog-relation-invoices", runtime: "Go, zerolog JSON", logGroup: "/aws/lambda/go-api",
			tmpl: `{"level":"error","error":"pq: relation \"invoices\" does not exist","time":"{TS}","request_id":"{UUID}","message":"query failed"}`,
		},
		{
			hint: "go-zerolog-relation-payments", runtime: "Go, zerolog JSON (near-miss: other table)", logGroup: "/aws/lambda/go-api",
			tmpl: `{"level":"error","error":"pq: relation \"payments\" does not exist","time":"{TS}","request_id":"{UUID}","message":"query failed"}`,
		},
		{
			hint: "go-logrus-fetch-rates-deadline", runtime: "Go, logrus JSON", logGroup: "/aws/lambda/go-api",
			tmpl: `{"error":"Get \"https://rates.example.com/v1/eur?ts={EPOCH}\": context deadline exceeded","level":"error","msg":"fetch rates","time":"{TS}"}`,
		},
		{
			hint: "go-slog-queue-orders-dlq", runtime: "Go, slog JSON", logGroup: "/aws/lambda/go-api",
			tmpl: `{"time":"{TS}","level":"ERROR","msg":"publish failed","err":"sqs: queue \"orders-dlq\" does not exist","attempt":{N}}`,
		},
		{
			hint: "go-slog-queue-refunds-dlq", runtime: "Go, slog JSON (near-miss: other queue)", logGroup: "/aws/lambda/go-api",
			tmpl: `{"time":"{TS}","level":"ERROR","msg":"publish failed","err":"sqs: queue \"refunds-dlq\" does not exist","attempt":{N}}`,
		},

		// ---- nginx error logs.
		{
			hint: "nginx-upstream-refused", runtime: "nginx error log", logGroup: "/ecs/web/nginx", text: true,
			tmpl: `{GODATE} [error] {N}#{N}: *{ID} connect() failed (111: Connection refused) while connecting to upstream, client: {IP}, server: api.example.com, request: "GET /v1/orders/{ID} HTTP/1.1", upstream: "http://127.0.0.1:8080/v1/orders/{ID}", host: "api.example.com"`,
		},
		{
			hint: "nginx-upstream-timeout", runtime: "nginx error log (near-miss: other failure)", logGroup: "/ecs/web/nginx", text: true,
			tmpl: `{GODATE} [error] {N}#{N}: *{ID} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {IP}, server: api.example.com, request: "POST /v1/orders HTTP/1.1", upstream: "http://127.0.0.1:8080/v1/orders", host: "api.example.com"`,
		},

		// ---- Kotlin coroutines (label numbers change between builds).
		{
			hint: "kotlin-CartService.checkout-empty", runtime: "Kotlin coroutines on the JVM", logGroup: "/aws/lambda/kotlin-cart", text: true,
			tmpl: "java.lang.IllegalStateException: cart {ID} is empty\n\tat com.acme.cart.CartService$checkout${N}.invokeSuspend(CartService.kt:{L})\n\tat kotlin.coroutines.jvm.internal.BaseContinuationImpl.resumeWith(ContinuationImpl.kt:33)\n\tat kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:108)\n\tat _COROUTINE._BOUNDARY._(CoroutineDebugging.kt:46)\n\tat com.acme.cart.CartApi$post${N}.invokeSuspend(CartApi.kt:{L})",
		},
		{
			hint: "kotlin-CartService.refund-empty", runtime: "Kotlin coroutines (near-miss: other suspend function)", logGroup: "/aws/lambda/kotlin-cart", text: true,
			tmpl: "java.lang.IllegalStateException: cart {ID} is empty\n\tat com.acme.cart.CartService$refund${N}.invokeSuspend(CartService.kt:{L})\n\tat kotlin.coroutines.jvm.internal.BaseContinuationImpl.resumeWith(ContinuationImpl.kt:33)\n\tat kotlinx.coroutines.DispatchedTask.run(DispatchedTask.kt:108)\n\tat _COROUTINE._BOUNDARY._(CoroutineDebugging.kt:46)\n\tat com.acme.cart.CartApi$post${N}.invokeSuspend(CartApi.kt:{L})",
		},

		// ---- Exception chains and groups, split so the primary exception is found.
		{
			hint: "node-aggregate-fetchRate", runtime: "Node AggregateError", text: true,
			tmpl: "{TS}\t{REQ}\tERROR\tAggregateError: All promises were rejected\n    at handler (/var/task/index.js:{L}:9) {\n  [errors]: [\n    Error: rate for EUR missing\n        at fetchRate (/var/task/rates.js:{L}:11)\n        at async Promise.any (index 0),\n    Error: upstream {N} failed\n        at fetchBackup (/var/task/rates.js:{L}:11)\n  ]\n}",
		},
		{
			hint: "node-aggregate-fetchQuote", runtime: "Node AggregateError (near-miss: the first member fails elsewhere)", text: true,
			tmpl: "{TS}\t{REQ}\tERROR\tAggregateError: All promises were rejected\n    at handler (/var/task/index.js:{L}:9) {\n  [errors]: [\n    Error: rate for EUR missing\n        at fetchQuote (/var/task/quotes.js:{L}:11)\n        at async Promise.any (index 0),\n    Error: upstream {N} failed\n        at fetchBackup (/var/task/rates.js:{L}:11)\n  ]\n}",
		},
		{
			hint: "node-cause-format-TypeError", runtime: "Node Error with [cause]", text: true,
			tmpl: "{TS}\t{REQ}\tERROR\tError: checkout {ID} failed\n    at checkout (/var/task/cart.js:{L}:11) {\n  [cause]: TypeError: price.toFixed is not a function\n      at format (/var/task/money.js:{L}:20)\n      at checkout (/var/task/cart.js:{L}:5)\n}",
		},
		{
			hint: "py-exception-group-load-ValueError", runtime: "Python 3.11+ ExceptionGroup", text: true,
			tmpl: "  + Exception Group Traceback (most recent call last):\n  |   File \"/var/task/app.py\", line {L}, in handler\n  |     raise ExceptionGroup(\"batch failed\", errors)\n  | ExceptionGroup: batch failed ({N} sub-exceptions)\n  +-+---------------- 1 ----------------\n    | Traceback (most recent call last):\n    |   File \"/var/task/app.py\", line {L}, in load_row\n    |     qty = int(row[\"qty\"])\n    | ValueError: invalid literal for int() with base 10: 'x{ID}'\n    +---------------- 2 ----------------\n    | Traceback (most recent call last):\n    |   File \"/var/task/app.py\", line {L}, in load_row\n    |     sku = row[\"sku\"]\n    | KeyError: 'sku'\n    +------------------------------------",
		},
		{
			hint: "py-exception-group-save-ValueError", runtime: "Python ExceptionGroup (near-miss: first member in another function)", text: true,
			tmpl: "  + Exception Group Traceback (most recent call last):\n  |   File \"/var/task/app.py\", line {L}, in handler\n  |     raise ExceptionGroup(\"batch failed\", errors)\n  | ExceptionGroup: batch failed ({N} sub-exceptions)\n  +-+---------------- 1 ----------------\n    | Traceback (most recent call last):\n    |   File \"/var/task/app.py\", line {L}, in save_row\n    |     qty = int(row[\"qty\"])\n    | ValueError: invalid literal for int() with base 10: 'x{ID}'\n    +---------------- 2 ----------------\n    | Traceback (most recent call last):\n    |   File \"/var/task/app.py\", line {L}, in load_row\n    |     sku = row[\"sku\"]\n    | KeyError: 'sku'\n    +------------------------------------",
		},
		{
			hint: "dotnet-aggregate-Repo.Get-OrderNotFound", runtime: ".NET AggregateException with (Inner Exception #0)", text: true,
			tmpl: "System.AggregateException: One or more errors occurred. (Order {ID} not found)\n ---> Shop.Orders.OrderNotFoundException: Order {ID} not found\n   at Shop.Orders.Repo.Get(Int32 id) in /src/Orders/Repo.cs:line {L}\n   at Shop.Orders.Service.<LoadAsync>d__{N}.MoveNext() in /src/Orders/Service.cs:line {L}\n   --- End of inner exception stack trace ---\n   at System.Threading.Tasks.Task.Wait()\n   at Shop.Program.Main(String[] args) in /src/Program.cs:line {L}\n---> (Inner Exception #0) Shop.Orders.OrderNotFoundException: Order {ID} not found\n   at Shop.Orders.Repo.Get(Int32 id) in /src/Orders/Repo.cs:line {L}<---",
		},

		// ---- Quality: an init failure's type and what it names are the problem.
		{
			hint: "init-orders-api-missing-stripe", runtime: "nodejs20.x init: missing module", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `{TS}\tundefined\tERROR\tUncaught Exception \t{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module 'stripe'{NL}Require stack:{NL}- /var/task/index.js{NL}- /var/runtime/index.mjs","stack":["Runtime.ImportModuleError: Error: Cannot find module 'stripe'","Require stack:","- /var/task/index.js","- /var/runtime/index.mjs","    at _loadUserApp (file:///var/runtime/index.mjs:1087:17)"]}`,
		},
		{
			hint: "init-orders-api-missing-uuid", runtime: "nodejs20.x init (near-miss: another missing module)", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `{TS}\tundefined\tERROR\tUncaught Exception \t{"errorType":"Runtime.ImportModuleError","errorMessage":"Error: Cannot find module 'uuid'{NL}Require stack:{NL}- /var/task/index.js{NL}- /var/runtime/index.mjs","stack":["Runtime.ImportModuleError: Error: Cannot find module 'uuid'","Require stack:","- /var/task/index.js","- /var/runtime/index.mjs","    at _loadUserApp (file:///var/runtime/index.mjs:1087:17)"]}`,
		},
		{
			hint: "init-orders-api-syntax", runtime: "nodejs20.x init (near-miss: a syntax error, not a missing module)", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `{TS}\tundefined\tERROR\tUncaught Exception \t{"errorType":"Runtime.UserCodeSyntaxError","errorMessage":"SyntaxError: Unexpected token '}'","stack":["Runtime.UserCodeSyntaxError: SyntaxError: Unexpected token '}'","    at _loadUserApp (file:///var/runtime/index.mjs:1084:17)"]}`,
		},
		{
			hint: "init-orders-api-handler-not-found", runtime: "nodejs20.x init (near-miss: the handler is missing)", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `{TS}\tundefined\tERROR\tUncaught Exception \t{"errorType":"Runtime.HandlerNotFound","errorMessage":"index.handler is undefined or not exported","stack":["Runtime.HandlerNotFound: index.handler is undefined or not exported","    at UserFunction.js.module.exports.load (file:///var/runtime/index.mjs:1122:15)"]}`,
		},
		{
			hint: "init-orders-api-py-missing-boto", runtime: "python3.12 init (near-miss: another missing module, same function)", logGroup: "/aws/lambda/orders-api", text: true,
			tmpl: `[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'boto4'\nTraceback (most recent call last):`,
		},

		// ---- Quality: without in-app frames the static parts decide; quoted identifiers are static.
		{
			hint: "text-s3-bucket-acme-invoices", runtime: "nodejs, plain text", text: true, n: 4,
			tmpl: `{TS}\t{REQ}\tERROR\tS3 upload failed: bucket 'acme-invoices' denied PutObject for key 'inv/{ID}.pdf' (request {DEP})`,
		},
		{
			hint: "text-s3-bucket-acme-receipts", runtime: "nodejs, plain text (near-miss: other bucket)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tS3 upload failed: bucket 'acme-receipts' denied PutObject for key 'inv/{ID}.pdf' (request {DEP})`,
		},
		{
			hint: "text-payment-amount-email", runtime: "any, amounts and emails vary", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tpayment of '${N}.99' by '{EMAIL}' failed: card_declined at {TS}`,
		},
		{
			hint: "text-payment-amount-email-expired", runtime: "any (near-miss: other static reason)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tpayment of '${N}.99' by '{EMAIL}' failed: expired_card at {TS}`,
		},
		{
			hint: "text-queue-hash-id", runtime: "any, generated ids inside quotes vary", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tmessage 'msg_{DEP}x{N}' dropped: queue 'orders-events' is full`,
		},

		// ---- Quality: bundled JavaScript and fat jars.
		{
			hint: "bundle-reserveSeat-ConditionalCheckFailed", runtime: "nodejs20.x esbuild bundle (every frame in index.mjs)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tInvoke Error \t{"errorType":"ConditionalCheckFailedException","errorMessage":"The conditional request failed","stack":["ConditionalCheckFailedException: The conditional request failed","    at throwDefaultError (file:///var/task/index.mjs:1:{ID})","    at de_ConditionalCheckFailedExceptionRes (file:///var/task/index.mjs:1:{ID})","    at async _DynamoDBClient.send (file:///var/task/index.mjs:1:{ID})","    at async reserveSeat (file:///var/task/index.mjs:1:{ID})","    at async Runtime.handler (file:///var/task/index.mjs:1:{ID})"]}`,
		},
		{
			hint: "bundle-releaseSeat-ConditionalCheckFailed", runtime: "esbuild bundle (near-miss: other application function)", text: true,
			tmpl: `{TS}\t{REQ}\tERROR\tInvoke Error \t{"errorType":"ConditionalCheckFailedException","errorMessage":"The conditional request failed","stack":["ConditionalCheckFailedException: The conditional request failed","    at throwDefaultError (file:///var/task/index.mjs:1:{ID})","    at de_ConditionalCheckFailedExceptionRes (file:///var/task/index.mjs:1:{ID})","    at async _DynamoDBClient.send (file:///var/task/index.mjs:1:{ID})","    at async releaseSeat (file:///var/task/index.mjs:1:{ID})","    at async Runtime.handler (file:///var/task/index.mjs:1:{ID})"]}`,
		},
		{
			hint: "bundle-loadSeats-anonymous", runtime: "esbuild bundle, anonymous callbacks do not group", text: true,
			tmpl: "{TS}\t{REQ}\tERROR\tError: seat map missing\n    at file:///var/task/index.mjs:1:{ID}\n    at Array.map (<anonymous>)\n    at loadSeats (file:///var/task/index.mjs:1:{ID})\n    at Runtime.handler (file:///var/task/index.mjs:1:{ID})",
		},
		{
			hint: "fatjar-Payments.charge-CardException", runtime: "java21 fat jar, com.stripe bundled",
			tmpl: `{"errorMessage":"Your card was declined.","errorType":"com.stripe.exception.CardException","stackTrace":["com.stripe.net.LiveStripeResponseGetter.handleApiError(LiveStripeResponseGetter.java:{L})","com.stripe.net.LiveStripeResponseGetter.request(LiveStripeResponseGetter.java:{L})","com.stripe.model.PaymentIntent.create(PaymentIntent.java:{L})","com.acme.billing.Payments.charge(Payments.java:{L})","com.acme.billing.Handler.handleRequest(Handler.java:{L})"]}`,
		},
		{
			hint: "fatjar-Payments.refund-CardException", runtime: "java21 fat jar (near-miss: other application method)",
			tmpl: `{"errorMessage":"Your card was declined.","errorType":"com.stripe.exception.CardException","stackTrace":["com.stripe.net.LiveStripeResponseGetter.handleApiError(LiveStripeResponseGetter.java:{L})","com.stripe.net.LiveStripeResponseGetter.request(LiveStripeResponseGetter.java:{L})","com.stripe.model.Refund.create(Refund.java:{L})","com.acme.billing.Payments.refund(Payments.java:{L})","com.acme.billing.Handler.handleRequest(Handler.java:{L})"]}`,
		},
		{
			hint: "fatjar-Ledger.post-jooq", runtime: "java21 fat jar, an unlisted library outside the app's package",
			tmpl: `{"errorMessage":"SQL [insert into ledger values (?, ?)]; ERROR: value too long","errorType":"org.jooq.exception.DataAccessException","stackTrace":["org.jooq.impl.Tools.translate(Tools.java:{L})","org.jooq.impl.AbstractQuery.execute(AbstractQuery.java:{L})","com.acme.billing.Ledger.post(Ledger.java:{L})","com.acme.billing.Handler.handleRequest(Handler.java:{L})"]}`,
		},
	}
}
