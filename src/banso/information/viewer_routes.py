"""HTML pages of the in-browser viewer for view-only files (閲覧, I3, I8, I12).

``/information/items/{id}/files/{file_id}/view`` lists the pages of a file (or shows a text file,
or the notice for Office files); ``…/view/{page}.png`` is one page stamped for the viewer. Every
answer is ``Cache-Control: no-store`` and offers no download; out of scope is 404 (I7).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from banso.information import viewer
from banso.information.endpoints import NO_STORE, InfoDeps
from banso.kit.disposition import content_disposition
from banso.web.deps import Ctx, Db
from banso.web.methods import no_head
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
Page = Annotated[int, Path(ge=1, le=viewer.MAX_PAGES)]
VIEW = "/information/items/{item_id}/files/{file_id}/view"


@router.get(VIEW, response_class=HTMLResponse)
@no_head  # the page stamps and records the text it shows (I8): HEAD is 405, never a recorded view
def view_file(item_id: int, file_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
              deps: InfoDeps) -> HTMLResponse:
    """Show a file the person may read, watermarked for them and without any download (I12)."""
    # I8: a text shown in the page is recorded and audited like a copy
    page = viewer.open_view(db, deps, item_id=item_id, file_id=file_id, actor=principal, now=ctx.clock.now())
    response = render(request, "information/viewer.html", {"view": page, "item": page.item, "file": page.file})
    response.headers.update(NO_STORE)
    return response


@router.get(VIEW + "/{page}.png")
def view_page(item_id: int, file_id: int, page: Page, principal: PageUser, db: Db, ctx: Ctx,
              deps: InfoDeps) -> Response:
    """Return one page as a PNG stamped for the person; each image is recorded and audited (I8)."""
    png = viewer.page_image(db, deps, item_id=item_id, file_id=file_id, page=page, actor=principal,
                            now=ctx.clock.now())
    return Response(png, media_type="image/png", headers={
        **NO_STORE, "Content-Disposition": content_disposition(inline=True), "X-Content-Type-Options": "nosniff"})
