"""The live stream for the command center screen: case transitions, overdue marks and machine alarms as
server-sent events, limited to the viewer's scope. Browsers' EventSource cannot send headers, so the
access token may also come as ``?access_token=``. A stream ends when the access token that opened it
expires and, within SESSION_CHECK_S, when its session ends (logout, reuse of a refresh token, a disabled
account): the client reconnects with a fresh token."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from xiuhua.cases.services.outbox import Event, OutboxReader, start_position, visible_to
from xiuhua.entrypoints.http.context import AppContext
from xiuhua.entrypoints.http.deps import Ctx, authenticate
from xiuhua.entrypoints.http.schemas.common import ERRORS
from xiuhua.kernel.errors import ForbiddenError
from xiuhua.org.domain.accounts import AuthenticationError
from xiuhua.org.services import accounts

router = APIRouter(tags=["实时事件"], responses=ERRORS)
POLL_S = 1.0
HEARTBEAT_S = 15.0
SESSION_CHECK_S = 2.0
"""How often an open stream looks up its session (one primary-key read)."""
ENDED_SESSION = ": 登录已结束，连接关闭\n\n"
ENDED_TOKEN = ": 访问令牌已到期，请用新令牌重新连接\n\n"


def _session_open(ctx: AppContext, session_id: str) -> bool:
    try:
        accounts.check_session(session_id, ctx.uow(), ctx.clock.now())
    except AuthenticationError:
        return False
    return True


def _frame(event: Event) -> str:
    data = json.dumps({"type": event.type, "at": event.at.isoformat(), **event.payload}, ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


@router.get(
    "/events/stream",
    summary="实时事件流（SSE，按管辖范围过滤）",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def stream(
    request: Request,
    ctx: Ctx,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    access_token: Annotated[str | None, Query(max_length=4096, description="供 EventSource 使用的访问令牌")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$")] = None,
    replay: Annotated[int, Query(ge=0, le=500, description="连接时先补发最近的事件条数")] = 0,
    max_seconds: Annotated[
        float, Query(gt=0, le=3600, description="到时结束，客户端自动重连；访问令牌到期或退出登录时也结束")
    ] = 3600,
) -> StreamingResponse:
    bearer = authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
    principal = await run_in_threadpool(authenticate, ctx, bearer or access_token, request)
    if principal.is_citizen:
        raise ForbiddenError("auth.staff_only", "此功能仅限工作人员")
    actor = principal.actor
    start = int(last_event_id) if last_event_id else await run_in_threadpool(start_position, ctx.uow(), replay)
    reader = OutboxReader(start, ctx.clock.now)

    expires_at = principal.expires_at or ctx.clock.now()

    async def frames() -> AsyncIterator[str]:
        yield f"retry: 3000\n: 已连接，从事件 {start} 之后开始\n\n"
        stop_at = time.monotonic() + max_seconds
        # the token lapses by the application's clock (checked each round) and, while it sleeps, by this
        token_stop_at = time.monotonic() + max((expires_at - ctx.clock.now()).total_seconds(), 0)
        quiet_since = checked = time.monotonic()
        while True:
            if await request.is_disconnected():
                return
            if ctx.clock.now() >= expires_at or time.monotonic() >= token_stop_at:
                yield ENDED_TOKEN
                return
            if time.monotonic() >= stop_at:
                return
            if time.monotonic() - checked >= SESSION_CHECK_S:
                checked = time.monotonic()
                if not await run_in_threadpool(_session_open, ctx, principal.session_id):
                    yield ENDED_SESSION
                    return
            events = await run_in_threadpool(reader.poll, ctx.uow())
            for event in events:
                if visible_to(event, actor):
                    quiet_since = time.monotonic()
                    yield _frame(event)
            if not events:
                if time.monotonic() - quiet_since > HEARTBEAT_S:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
                await asyncio.sleep(min(POLL_S, max(min(stop_at, token_stop_at) - time.monotonic(), 0)))

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)
