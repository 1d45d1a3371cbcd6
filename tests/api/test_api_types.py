"""Every public method of the API surface is typed with a model, from its type hints alone."""

from __future__ import annotations

import collections.abc
import importlib
import inspect
import pkgutil
import types
import typing
from typing import Any

import attrs

import vzaps_async.api

#: Methods whose route answers no body at all; none today (a 204 delete still gives a model).
NO_BODY: set[str] = set()


def _public_callables() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for info in pkgutil.iter_modules(vzaps_async.api.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"vzaps_async.api.{info.name}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        found.append((f"{info.name}.{name}.{attr}", member))
            elif inspect.isfunction(obj):
                found.append((f"{info.name}.{name}", obj))
    return found


def _is_model(tp: Any) -> bool:
    """An attrs model, or a tuple of them (``tuple[Model, ...]``)."""
    if attrs.has(tp):
        return True
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        return len(args) == 2 and args[1] is Ellipsis and attrs.has(args[0])
    return False


def _mentions_raw(tp: Any) -> bool:
    """Whether ``tp`` is or contains dict, Any, str or a mapping."""
    if tp in (Any, str, dict) or typing.get_origin(tp) in (dict, collections.abc.Mapping):
        return True
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return any(_mentions_raw(a) for a in typing.get_args(tp))
    return any(_mentions_raw(a) for a in typing.get_args(tp) if a is not Ellipsis)


def test_the_scan_finds_the_api_surface() -> None:
    """The scan sees the methods of every endpoint group (so the checks below check something)."""
    names = {name for name, _ in _public_callables()}
    assert "groups.GroupsAPI.info" in names
    assert "queues.QueuesAPI.purge_messages" in names
    assert "typebot.TypebotAPI.start_session" in names
    assert len(names) > 90


def test_no_public_method_returns_raw_json_or_a_bare_string() -> None:
    """No method is typed to return dict, Any, str or a page of dicts (at any depth)."""
    offenders = []
    for name, func in _public_callables():
        returned = typing.get_type_hints(func)["return"]
        if _mentions_raw(returned):
            offenders.append(f"{name} -> {returned}")
    assert offenders == []


def test_every_method_whose_route_answers_returns_a_model() -> None:
    """Coroutines return a model (or a tuple of models); iterators yield models; none gives None."""
    offenders = []
    for name, func in _public_callables():
        returned = typing.get_type_hints(func)["return"]
        if typing.get_origin(returned) is collections.abc.AsyncIterator:
            ok = attrs.has(typing.get_args(returned)[0])
        elif name in NO_BODY:
            ok = returned is type(None)
        else:
            ok = _is_model(returned)
        if not ok:
            offenders.append(f"{name} -> {returned}")
    assert offenders == []
