"""One place that maps domain exceptions to HTTP: JSON under /api, an HTML page elsewhere."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from banso.kit.errors import AuthenticationRequired, BansoError

log = logging.getLogger("banso.web")


class RedirectTo(Exception):
    """Raised by page dependencies to send the browser elsewhere (login, second factor)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


OUT_OF_RANGE = "値が範囲外です / a value is out of range"


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
        if _is_api(request):
            body = {"error": exc.code, "message": exc.message}
            if exc.field:
                body["field"] = exc.field
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationRequired) else None
            return JSONResponse(body, status_code=exc.status_code, headers=headers)
        if isinstance(exc, AuthenticationRequired) and request.method == "GET":
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return _html_error(request, exc.status_code, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")),
             "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        if _is_api(request):
            return JSONResponse(
                {"error": "validation_failed", "message": "入力内容が正しくありません / request is not valid",
                 "problems": problems},
                status_code=422,
            )
        text = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return _html_error(request, 400, "validation_failed", text)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 422: "validation_failed"}.get(exc.status_code,
                                                                                       "http_error")
        if _is_api(request):
            return JSONResponse({"error": code, "message": str(exc.detail)}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return _html_error(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # A number the database cannot hold (e.g. an id past 2^31 on PostgreSQL) is bad input.
        if _is_api(request):
            return JSONResponse({"error": "validation_failed", "message": OUT_OF_RANGE}, status_code=422)
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
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _is_api(request):
            return JSONResponse({"error": "internal_error", "message": "internal error"}, status_code=500)
        return _html_error(request, 500, "internal_error", "internal error")
