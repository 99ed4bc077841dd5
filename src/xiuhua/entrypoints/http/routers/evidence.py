"""Photo upload: size-capped, typed by content, stripped of metadata, stored by SHA-256."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status

from xiuhua.entrypoints.http.deps import Ctx, CurrentUser
from xiuhua.entrypoints.http.schemas.cases import StoredFileOut
from xiuhua.entrypoints.http.schemas.common import ERRORS
from xiuhua.kernel.errors import InvalidInputError

router = APIRouter(tags=["照片"], responses=ERRORS)


@router.post("/evidence", status_code=status.HTTP_201_CREATED, summary="上传照片（JPEG/PNG/WebP）")
def upload(file: Annotated[UploadFile, File(description="图片文件；类型以内容为准，不信任文件头声明")],
           user: CurrentUser, ctx: Ctx) -> StoredFileOut:  # fmt: skip
    limit = ctx.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInputError("evidence.too_large", f"文件超过上限 {limit} 字节", limit=limit)
    stored = ctx.evidence.put(data)  # rebuilt from its pixels by the store: no metadata is kept
    return StoredFileOut(sha256=stored.sha256, content_type=stored.content_type, size=stored.size)
