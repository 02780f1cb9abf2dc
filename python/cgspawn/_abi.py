# SPDX-License-Identifier: MIT
"""The C ABI of libcgspawn (include/cgspawn/cgspawn.h) through ctypes: loaded once, checked
against the ABI version this package was written for."""
import ctypes
import ctypes.util
import json
import os

from .errors import error_for

ABI_VERSION = 1


class _Task(ctypes.Structure):
    pass


_TaskP = ctypes.POINTER(_Task)
_charpp = ctypes.POINTER(ctypes.c_char_p)


def _load():
    name = os.environ.get("CGSPAWN_LIBRARY") or ctypes.util.find_library("cgspawn") or "libcgspawn.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise ImportError(
            f"cgspawn: cannot load the library {name} ({e}); install cgspawn (meson install, "
            "then ldconfig) or name it in $CGSPAWN_LIBRARY") from e
    lib.cgspawn_abi_version.restype = ctypes.c_int
    version = lib.cgspawn_abi_version()
    if version != ABI_VERSION:
        raise ImportError(f"cgspawn: {name} has C ABI version {version}; this package needs {ABI_VERSION}")
    _declare(lib)
    return lib


def _declare(lib):
    c_int, c_char_p, c_double = ctypes.c_int, ctypes.c_char_p, ctypes.c_double
    signatures = {
        "cgspawn_version": (c_char_p, []),
        "cgspawn_last_error": (c_char_p, []),
        "cgspawn_free": (None, [ctypes.c_void_p]),
        "cgspawn_spawn": (c_int, [c_char_p, ctypes.POINTER(_TaskP)]),
        "cgspawn_task_id": (c_char_p, [_TaskP]),
        "cgspawn_task_poll_fd": (c_int, [_TaskP]),
        "cgspawn_task_try_wait": (c_int, [_TaskP, ctypes.POINTER(c_int), ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_task_wait": (c_int, [_TaskP, ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_task_destroy": (c_int, [_TaskP, c_double, c_int, ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_task_free": (None, [_TaskP]),
        "cgspawn_start": (c_int, [c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_destroy": (c_int, [c_char_p, c_char_p, c_double, ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_destroy_labels": (c_int, [c_char_p, c_char_p, c_double, ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_reap": (c_int, [c_char_p, c_char_p, c_int, c_double, ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_capabilities": (c_int, [c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
        "cgspawn_describe_result": (c_int, [c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes


lib = _load()

REASON_DESTROYED = 0
REASON_TIMED_OUT = 1


def _encode(text):
    return None if text is None else str(text).encode()


def call(function, *args):
    """Calls an ABI function whose last argument is a `char**` out parameter; returns that
    string (decoded, released), or raises the error the status names."""
    out = ctypes.c_void_p()
    status = function(*args, ctypes.byref(out))
    if status != 0:
        raise error_for(status, lib.cgspawn_last_error().decode(errors="replace"))
    if not out.value:
        return None
    try:
        return ctypes.string_at(out.value).decode()
    finally:
        lib.cgspawn_free(out)


def call_json(function, *args):
    text = call(function, *args)
    return None if text is None else json.loads(text)


def check(status):
    if status != 0:
        raise error_for(status, lib.cgspawn_last_error().decode(errors="replace"))


def spawn(request):
    handle = _TaskP()
    check(lib.cgspawn_spawn(_encode(json.dumps(request)), ctypes.byref(handle)))
    return handle


def try_wait(handle):
    ended = ctypes.c_int()
    out = ctypes.c_void_p()
    check(lib.cgspawn_task_try_wait(handle, ctypes.byref(ended), ctypes.byref(out)))
    if not ended.value:
        return None
    try:
        return json.loads(ctypes.string_at(out.value).decode())
    finally:
        lib.cgspawn_free(out)


def encode(text):
    return _encode(text)
