"""Two fixes of moto's own costs, loaded by moto_server's Python at startup (awstest puts this
directory first on the server's PYTHONPATH). Neither changes an answer moto gives.

1. TransactWriteItems backs up each table it writes, to put the backup back when the transaction
   is cancelled; moto 5 takes that backup once per *item* of the transaction, a deep copy of the
   whole table each time: 100 copies of the table for a 100-item transaction, most of the CPU of
   the adapters' tests. All the copies are of the same state (they are taken before any item is
   applied), so one copy per table and transaction is the same backup.
2. Every request lists moto's package directory (a stat per entry, ~2.6 ms) to see whether the
   Host header names a service: that listing cannot change while the server runs; it is taken once.

Each fix applies when moto imports the module it changes, and only when that module still looks
as the fix expects (otherwise moto runs unchanged). With AIENT_MOTO_PATCH_MARK set, the name of
each fix applied is appended to that file (awstest's tests check both apply to the moto installed).
A sitecustomize this one shadows on sys.path is run after it.
"""

import copy
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading


def _mark(name):
    path = os.environ.get("AIENT_MOTO_PATCH_MARK")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(name + "\n")


def _one_backup_per_table(models):
    from moto.dynamodb.models.table import Table

    backend = getattr(models, "DynamoDBBackend", None)
    if getattr(models, "copy", None) is not copy or not hasattr(backend, "transact_write_items"):
        return
    local = threading.local()  # moto's server runs each request in a thread of its own

    class _Copy:
        """The copy module as moto.dynamodb.models sees it: inside TransactWriteItems, the
        deep copy of a table is taken once and handed out again."""

        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(x, memo=None):
            backups = getattr(local, "backups", None)
            if backups is None or not isinstance(x, Table):
                return copy.deepcopy(x, memo)
            got = backups.get(id(x))
            if got is None:
                got = (x, copy.deepcopy(x, memo))  # x kept: its id stays its own
                backups[id(x)] = got
            return got[1]

    transact = backend.transact_write_items

    def transact_write_items(self, *args, **kwargs):
        local.backups = {}
        try:
            return transact(self, *args, **kwargs)
        finally:
            local.backups = None

    models.copy = _Copy()
    backend.transact_write_items = transact_write_items
    _mark("transact_write_items")


def _list_modules_once(backends):
    listing = getattr(backends, "list_of_moto_modules", None)
    if listing is None:
        return
    lock = threading.Lock()
    names = None

    def list_of_moto_modules():
        nonlocal names
        with lock:
            if names is None:
                names = tuple(listing())
        return iter(names)

    backends.list_of_moto_modules = list_of_moto_modules
    _mark("list_of_moto_modules")


_FIXES = {"moto.dynamodb.models": _one_backup_per_table, "moto.backends": _list_modules_once}


def _apply(fix, module):
    try:
        fix(module)
    except Exception as e:  # moto changed: run it unchanged
        print(f"awstest motopatch: {fix.__name__} not applied: {e!r}", file=sys.stderr)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Applies a fix right after moto imports the module it changes."""

    def find_spec(self, name, path, target=None):
        fix = _FIXES.pop(name, None)
        if fix is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_fix(module):
            exec_module(module)
            _apply(fix, module)

        spec.loader.exec_module = exec_and_fix
        return spec


for _name in list(_FIXES):
    if _name in sys.modules:
        _apply(_FIXES.pop(_name), sys.modules[_name])
sys.meta_path.insert(0, _AfterImport())

# The sitecustomize this one shadows, if any.
_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.machinery.PathFinder.find_spec(
    "sitecustomize", [p for p in sys.path if os.path.abspath(p or ".") != _here]
)
if _spec is not None and _spec.loader is not None:
    _shadowed = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_shadowed)
