"""One place that maps domain exceptions to HTTP: JSON under /api, an HTML page elsewhere."""

from __future__ import annotations

import errno
import logging
import re
import sqlite3
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from banso.kit.errors import AuthenticationRequired, BansoError, NotFound
from banso.web.problems import field_code, pydantic_message, reader_half, reader_locale, relabel

log = logging.getLogger("banso.web")


class RedirectTo(Exception):
    """Raised by page dependencies to send the browser elsewhere (login, second factor)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


OUT_OF_RANGE = "値が範囲外です / a value is out of range"
# Starlette's own reasons (its HTTP status phrases), said in both languages like every other refusal.
_HTTP_MESSAGES = {
    "Not Found": "ページが見つかりません / Not Found",
    "Method Not Allowed": "この操作はこのページでは使えません / Method Not Allowed",
    "Unprocessable Entity": "入力内容が正しくありません / Unprocessable Entity",
}


# Starlette's multipart parser refuses a malformed form with English-only reasons (a 400 raised as HTTPException);
# each is said Japanese first like every other refusal (O1). The counts and sizes are kept from its reason.
_MULTIPART_MESSAGES = (
    (re.compile(r"Invalid multipart data\.?"), "フォームのデータが壊れています / Invalid multipart data."),
    (re.compile(r"Missing boundary in multipart\.?"),
     "フォームのデータに区切り文字がありません / Missing boundary in multipart."),
    (re.compile(r"Too many files\. Maximum number of files is (\d+)\.?"),
     "ファイルが多すぎます（最大 {0} 個） / Too many files; at most {0}."),
    (re.compile(r"Too many fields\. Maximum number of fields is (\d+)\.?"),
     "項目が多すぎます（最大 {0} 個） / Too many fields; at most {0}."),
    (re.compile(r"(?:Field|Part) exceeded maximum size of (\d+)KB\.?"),
     "項目が大きすぎます（最大 {0} KB） / A form field is too large; at most {0} KB."),
    (re.compile(r'The Content-Disposition header field "name" must be provided\.?'),
     "フォームの項目に名前がありません / A form part has no name."),
)


def _http_message(detail: str) -> str:
    """Return Starlette's reason ``detail`` in both languages (Japanese first), else ``detail`` unchanged."""
    if detail in _HTTP_MESSAGES:
        return _HTTP_MESSAGES[detail]
    for pattern, message in _MULTIPART_MESSAGES:
        found = pattern.fullmatch(detail)
        if found:
            return message.format(*found.groups())
    return detail


NOT_FOUND = "見つかりません / not found"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _html_error(request: Request, status: int, code: str, message: str) -> Response:
    from banso.web.templating import render_error

    return render_error(request, status=status, code=code, message=message)


def install_error_handlers(app: FastAPI) -> None:
    """Register the exception handlers."""

    @app.exception_handler(RedirectTo)
    async def _redirect(request: Request, exc: RedirectTo) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(BansoError)
    async def _domain(request: Request, exc: BansoError) -> Response:
        if isinstance(exc, NotFound):
            # I7: one answer for "there is no such thing" and "you may not know it exists"; a message naming what
            # was looked for ("見つかりません / project not found" vs "project not found") told the two apart.
            exc = NotFound(NOT_FOUND)
        if _is_api(request):
            # message: both languages, as services word it; detail: the reader's language, fields by label (issue 14).
            body = {"error": exc.code, "message": exc.message,
                    "detail": reader_half(relabel(exc.message, exc.field), reader_locale(request))}
            if exc.field:
                body["field"] = exc.field
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationRequired) else None
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        if isinstance(exc, AuthenticationRequired) and request.method == "GET":
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return _html_error(request, exc.status_code, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"field": field_code(tuple(err.get("loc", ()))), "message": pydantic_message(err)}
                    for err in exc.errors()]
        locale = reader_locale(request)
        detail = ("；" if locale == "ja" else "; ").join(reader_half(p["message"], locale) for p in problems)
        if _is_api(request):
            return JSONResponse(
                {"error": "validation_failed", "message": "入力内容が正しくありません / request is not valid",
                 "detail": detail, "problems": problems},
                status_code=422,
            )
        return _html_error(request, 400, "validation_failed", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 422: "validation_failed"}.get(exc.status_code,
                                                                                       "http_error")
        message = _http_message(str(exc.detail))
        if _is_api(request):
            return JSONResponse({"error": code, "message": message,
                                 "detail": reader_half(message, reader_locale(request))},
                                status_code=exc.status_code, headers=getattr(exc, "headers", None))
        response = _html_error(request, exc.status_code, code, message)
        response.headers.update(getattr(exc, "headers", None) or {})  # a page's 405 keeps its Allow (RFC 9110)
        return response

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # A number the database cannot hold (e.g. an id past 2^31 on PostgreSQL) is bad input.
        if _is_api(request):
            return JSONResponse({"error": "validation_failed", "message": OUT_OF_RANGE,
                                 "detail": reader_half(OUT_OF_RANGE, reader_locale(request))}, status_code=422)
        return _html_error(request, 400, "validation_failed", OUT_OF_RANGE)

    @app.exception_handler(StatementError)
    async def _statement(request: Request, exc: Exception) -> Response:
        # SQLAlchemy wraps what a bind parameter raises (a date past year 9999 once turned into UTC
        # overflows) in StatementError, so the OverflowError handler above never sees it (O1).
        if isinstance(getattr(exc, "orig", None), OverflowError):
            return await _out_of_range(request, exc)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Only errors raised outside the app's own middleware get here (web.middleware.CatchErrors
        # answers the others without closing the connection).
        return error_response(request, exc)


def method_not_allowed(request: Request, allow: str) -> Response:
    """Answer 405 with ``Allow`` (RFC 9110 §15.5.6): the one error shape under /api, the error page elsewhere."""
    message = _HTTP_MESSAGES["Method Not Allowed"]
    if _is_api(request):
        return JSONResponse({"error": "method_not_allowed", "message": message,
                             "detail": reader_half(message, reader_locale(request))},
                            status_code=405, headers={"Allow": allow})
    response = _html_error(request, 405, "method_not_allowed", message)
    response.headers["Allow"] = allow
    return response


# --- outages (O4): a down database is 503 with Retry-After, a full disk 507, anything else 500 ------

RETRY_AFTER_SECONDS = 30
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
# SQLITE_BUSY, SQLITE_LOCKED (after the busy timeout), SQLITE_IOERR (a full disk is ENOSPC, db.engine), SQLITE_CANTOPEN
_SQLITE_UNAVAILABLE = frozenset({5, 6, 10, 14})
_PG_FULL = frozenset({"53100"})  # disk_full
_PG_UNAVAILABLE_CLASSES = ("08", "57P")  # connection exception; admin/crash shutdown, cannot connect now
_PG_UNAVAILABLE = frozenset({"53300"})  # too_many_connections
_UNAVAILABLE = ("データベースに接続できません。しばらくしてから再度お試しください"
                " / The database is unavailable; please try again shortly")
_FULL = ("サーバーのディスクがいっぱいのため保存できません。管理者に連絡してください"
         " / The server's disk is full, so nothing could be saved; please tell the administrator")


def _causes(exc: BaseException) -> list[BaseException]:
    """Return ``exc``, the driver error SQLAlchemy wraps, and what it was raised from (a bounded walk)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 16:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return seen


def _driver_outage(error: BaseException) -> int | None:
    if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
        return 507
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if code == _SQLITE_FULL or "database or disk is full" in str(error):
            return 507
        return 503 if code is not None and code & 0xFF in _SQLITE_UNAVAILABLE else None  # extended codes too
    sqlstate = getattr(error, "sqlstate", None)  # psycopg: the server's SQLSTATE, None if it never answered
    if isinstance(sqlstate, str):
        if sqlstate in _PG_FULL:
            return 507
        if sqlstate.startswith(_PG_UNAVAILABLE_CLASSES) or sqlstate in _PG_UNAVAILABLE:
            return 503
    return None


def outage_status(exc: BaseException) -> int | None:
    """Return 503 when the database cannot be reached, 507 when a disk is full, else None.

    503: the connection was refused or lost (SQLAlchemy marks it invalidated, or the driver failed
    before the server answered), the pool had no connection to give, or the server is shutting
    down. 507: ENOSPC/EDQUOT from the file store, SQLite's SQLITE_FULL, PostgreSQL's disk_full.
    """
    for error in _causes(exc):
        status = _driver_outage(error)
        if status is not None:
            return status
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return 503
        if isinstance(error, sa_exc.TimeoutError | sa_exc.InterfaceError):
            return 503  # no pooled connection in time; a connection already closed under us
        if (isinstance(error, sa_exc.OperationalError) and not isinstance(error.orig, sqlite3.Error)
                and getattr(error.orig, "sqlstate", None) is None):
            return 503  # psycopg: connection refused, server gone, SSL lost (no SQLSTATE: no answer)
    return None


def error_response(request: Request, exc: Exception) -> Response:
    """Answer an error no handler took: 503 with Retry-After, 507, or 500; logged once here."""
    status = outage_status(exc)
    if status is None:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        code, message, headers = "internal_error", "内部エラーが発生しました / internal error", None
    elif status == 503:
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        code, message, headers = "database_unavailable", _UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    else:
        log.error("disk full on %s %s: %s", request.method, request.url.path, exc)
        code, message, headers = "insufficient_storage", _FULL, None
    if _is_api(request):
        return JSONResponse({"error": code, "message": message, "detail": reader_half(message, reader_locale(request))},
                            status_code=status or 500, headers=headers)
    response = _html_error(request, status or 500, code, message)
    response.headers.update(headers or {})
    return response
