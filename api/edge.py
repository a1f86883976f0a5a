"""The shape every route of the API shares: strict JSON, documented errors, writes that
answer at once.

`EdgeRoute` is the route class of every router:
- a JSON body is parsed strictly: UTF-8 only, no `NaN`/`Infinity` (nor a number too large
  for a float), no lone surrogate in any string, no nesting deeper than the parser's stack;
  each refusal is a 422 like any malformed field, never a 400 or a 500;
- each route declares the error body (`ErrorResponse`) for the statuses it can answer,
  writes 401/403/404/409/413/422, reads 404/422, and the roles its act needs (`x-roles`);
- a write answers as soon as it is recorded, with its log position. A client that needs to
  read its own write asks for it: `Prefer: wait-for-views` (or `?wait_for_views=true`); the
  answer then waits until the views have applied that position, at most
  `settings.views_wait_seconds`, and says whether they did (`Views-Caught-Up: true|false`,
  with `Preference-Applied: wait-for-views`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from api.schemas import READ_ERRORS, WRITE_ERRORS

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WAIT_FOR_VIEWS = "wait-for-views"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number of the body does not fit a finite float")
    return number


def _lone_surrogate_in(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def strict_json(body: bytes) -> Any:
    """The JSON value of `body`, or `json.JSONDecodeError` saying why it is not JSON
    (never quoting the body)."""
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON exchanged between systems is UTF-8
    except UnicodeDecodeError as e:
        raise json.JSONDecodeError("the body is not UTF-8 text", "", e.start) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except json.JSONDecodeError as e:
        raise json.JSONDecodeError(e.msg, "", e.pos) from None
    except RecursionError:
        raise json.JSONDecodeError("the body nests too deeply", "", 0) from None
    except ValueError as e:  # NaN, Infinity, 1e999, an integer of thousands of digits
        message = str(e) if "JSON number" in str(e) or "finite" in str(e) else (
            "a number of the body is too long")
        raise json.JSONDecodeError(message, "", 0) from None
    if _lone_surrogate_in(value):
        raise json.JSONDecodeError("a string of the body holds a lone surrogate", "", 0)
    return value


class StrictJSONRequest(Request):
    """A request whose JSON body is parsed by `strict_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json(await self.body())
        return self._json


def wants_views(prefer: str | None, wait_for_views: bool) -> bool:
    """Whether the client asked to read its own write (RFC 7240 `Prefer`, or the query)."""
    if wait_for_views:
        return True
    tokens = (p.split("=")[0].strip().lower() for p in (prefer or "").split(","))
    return WAIT_FOR_VIEWS in tokens


async def _read_your_writes(
    request: Request,
    prefer: Annotated[str | None, Header(
        description="`wait-for-views`: answer once the views have applied this write "
                    "(bounded wait; `Views-Caught-Up` tells whether they did)")] = None,
    wait_for_views: Annotated[bool, Query(
        description="same as `Prefer: wait-for-views`")] = False,
) -> None:
    request.state.wait_for_views = wants_views(prefer, wait_for_views)


def _position_of(response: Response) -> int | None:
    if not 200 <= response.status_code < 300:
        return None
    try:
        position = json.loads(getattr(response, "body", b"") or b"null").get("position")
    except (ValueError, AttributeError):
        return None
    return position if isinstance(position, int) else None


def _views_reach(request: Request, position: int) -> bool:
    """Wait (bounded) until every view that applies the event at `position` has applied it;
    a view that does not follow its topic never will, and is not waited for."""
    app = request.app.state
    try:
        at = app.registre.recorder.select_notifications(start=position, limit=1)
        topic = at[0].topic if at and at[0].id == position else None
        for views, topics in getattr(app, "read_views", ((app.views, ()),)):
            if topic is None or not topics or topic in topics:
                views.wait(app.registre.name, position,
                           timeout=app.settings.views_wait_seconds)
    except Exception:  # noqa: BLE001 - the write is recorded; the views will follow
        return False
    return True


class EdgeRoute(APIRoute):
    """Every route: strict JSON, its errors documented; writes answer at once, or once the
    views caught up when the client prefers it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ("GET",)}
        self.is_write = bool(methods - READ_METHODS)
        kwargs["responses"] = {**(WRITE_ERRORS if self.is_write else READ_ERRORS),
                               **(kwargs.get("responses") or {})}
        if self.is_write:
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()),
                                      Depends(_read_your_writes)]
        roles = [r for d in kwargs.get("dependencies") or ()
                 for r in getattr(d.dependency, "roles", ())]
        if roles:  # the roles the act needs, for clients reading the OpenAPI
            kwargs["openapi_extra"] = {"x-roles": roles, **(kwargs.get("openapi_extra") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        is_write = self.is_write

        async def edge_handler(request: Request) -> Response:
            request = StrictJSONRequest(request.scope, request.receive)
            response = await handler(request)
            if is_write and getattr(request.state, "wait_for_views", False):
                position = _position_of(response)
                if position is not None:
                    caught_up = await run_in_threadpool(_views_reach, request, position)
                    response.headers["Preference-Applied"] = WAIT_FOR_VIEWS
                    response.headers["Views-Caught-Up"] = "true" if caught_up else "false"
            return response

        return edge_handler
