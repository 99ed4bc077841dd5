"""Commands of video intelligence: cameras, the frame pipeline, plates, the vehicle registry, the SMS outbox and
the plate review queue; and `start_cameras`, which runs the demo cameras in the background."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from xiuhua.bootstrap import Runtime, messagebus
from xiuhua.entrypoints.cli.console import SkipInvalid, err, out, print_report, progress_bar, reports_errors, runtime
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock
from xiuhua.platform.tabular import read_table
from xiuhua.video.adapters.vision.frames import IMAGE_SUFFIXES, frames, read_image
from xiuhua.video.adapters.vision.pipeline import OpenCvVision, load_camera_file, packaged_video
from xiuhua.video.domain.enforcement import NoticeState, SmsState
from xiuhua.video.domain.plates import mask_plate
from xiuhua.video.services import analysis as video
from xiuhua.video.services import sms as sms_service
from xiuhua.video.services import vehicles
from xiuhua.video.services.analysis import CameraRun, process_frame
from xiuhua.video.services.enforcement import Deps, EnforcementPolicy, ReviewNotice, review_notice

log = logging.getLogger(__name__)
LOCAL = ZoneInfo("Asia/Shanghai")
DESK = Actor("video_desk", frozenset({Role.SYSTEM, Role.ACCEPTOR, Role.SUPERVISOR, Role.SHIFT_LEADER, Role.DISPATCHER}))
"""The video desk: verifies, files and dispatches what the cameras find, on the strength of their evidence."""

camera_app = typer.Typer(
    help="视频摄像头：登记（JSON）与查看，含禁止摆摊区、人行道禁停区、停车位。", no_args_is_help=True
)
video_app = typer.Typer(help="视频智能分析：对摄像头画面运行检测、跟踪与停留规则。", no_args_is_help=True)
plate_app = typer.Typer(help="车牌识别。", no_args_is_help=True)
vehicle_app = typer.Typer(help="车辆登记库：车主与手机号（加密存储，脱敏显示）。", no_args_is_help=True)
sms_app = typer.Typer(help="短信发件箱：查看、发送到期短信、重发失败短信。", no_args_is_help=True)
review_app = typer.Typer(help="车牌人工复核：低置信度或格式不符的识别结果。", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(camera_app, name="camera")
    app.add_typer(video_app, name="video")
    app.add_typer(plate_app, name="plate")
    app.add_typer(vehicle_app, name="vehicle")
    app.add_typer(sms_app, name="sms")
    app.add_typer(review_app, name="review")


# ----- wiring ----------------------------------------------------------------------------------------
def deps(rt: Runtime, grace_minutes: float = 15) -> Deps:
    handle = messagebus(rt.uow(), rt.clock, rt.policy()).handle
    return Deps(rt.evidence, rt.phone_cipher, handle, EnforcementPolicy(grace_minutes, DESK))


def _definition(code: str, source: str, background: Path | None) -> dict[str, Any]:
    """What `vision_for` needs: the source, and the empty-scene reference if one lies beside the frames."""
    definition: dict[str, Any] = {"code": code, "source": source}
    guess = Path(source).parent / f"{code}_background.jpg"
    if background or guess.exists():
        definition["background"] = str(background or guess)
    return definition


# ----- cameras ---------------------------------------------------------------------------------------
@camera_app.command("import")
@reports_errors
def camera_import(
    file: Annotated[Path | None, typer.Argument(help="摄像头定义 JSON 文件（默认：演示摄像头）")] = None,
) -> None:
    """登记或更新摄像头及其区域（整文件成功或全部不写入）。"""
    path = file or packaged_video() / "cameras.json"
    codes = video.register_cameras(load_camera_file(path), runtime().uow())
    out.print(f"已登记摄像头 {len(codes)} 个：{'、'.join(codes)}")


@camera_app.command("list")
@reports_errors
def camera_list() -> None:
    """列出摄像头与区域。"""
    table = Table("编号", "名称", "经纬度", "朝向", "画面来源", "区域")
    for c in video.list_cameras(runtime().uow()):
        zones = "；".join(f"{z.code} {z.kind.label} {z.dwell_minutes:g}分钟" for z in c.zones)
        table.add_row(c.code, c.name, f"{c.lon:.5f},{c.lat:.5f}", f"{c.heading_deg:g}°", c.source, zones)
    out.print(table)


# ----- the pipeline ----------------------------------------------------------------------------------
Device = Annotated[str, typer.Option(help="推理设备：auto（有 GPU 用 GPU）、cpu、cuda")]


@video_app.command("run")
@reports_errors
def video_run(
    camera: Annotated[str, typer.Option("--camera", help="摄像头编号")],
    source: Annotated[
        str, typer.Option("--source", help="图片、快照文件夹、视频文件或流地址（默认：登记的来源）")
    ] = "",
    background: Annotated[Path | None, typer.Option(help="无人无车时的参考画面（前景检测用）")] = None,
    grace: Annotated[float, typer.Option(help="短信告知后的复查宽限（分钟）")] = 15,
    device: Device = "auto",
) -> None:
    """对一个摄像头的画面运行检测、跟踪与停留规则；违停先短信告知，复查仍在则立案；占道经营直接立案派遣。"""
    rt = runtime()
    with rt.uow() as uow:
        cam = uow.video.camera(camera)
    if cam is None:
        raise NotFoundError("camera.not_found", f"摄像头 {camera} 不存在，请先 xiuhua camera import")
    src = source or cam.source
    vision = rt.vision(_definition(camera, src, background), device)
    enforcement = deps(rt, grace)
    provider = rt.sms_gateway()

    def send_due(clock: Clock) -> object:
        return sms_service.deliver_sms(rt.uow(), clock, provider, enforcement.cipher)

    folder = Path(src)
    total = sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else 0
    with progress_bar() as progress:
        summary = video.run_camera(
            camera, frames(src), vision, rt.uow(), enforcement, progress, total, after_frame=send_due
        )
    out.print(
        f"处理画面 {summary.frames} 帧，检测 {summary.detections} 个目标；告知单 {len(summary.notices)} 个，"
        f"立案 {len(summary.cases)} 件{('：' + '、'.join(summary.cases)) if summary.cases else ''}，"
        f"告知后驶离 {len(summary.resolved)} 起"
    )
    for line in summary.errors:
        err.print(f"  {line}", markup=False)


@plate_app.command("read")
@reports_errors
def plate_read(
    image: Annotated[Path, typer.Argument(help="图片文件")],
    reader: Annotated[str, typer.Option(help="识别器：clp（默认）或 clp_plain（模型单独使用）")] = "clp",
    device: Device = "auto",
) -> None:
    """识别图片中的车牌：号码、颜色、置信度、格式校验。"""
    from xiuhua.video.adapters.vision.base import FrameSourceError

    if not image.exists():
        raise FrameSourceError("vision.not_found", f"文件不存在：{image}")
    reads = Runtime().plate_reader(reader, {"device": device}).read(read_image(image))  # no database needed
    if not reads:
        out.print("未发现车牌")
        return
    table = Table("车牌号", "颜色", "置信度", "格式", "处理")
    for r in reads:
        action = "短信告知" if r.valid and r.confidence >= 0.6 else "人工复核"
        table.add_row(r.text, r.color.label, f"{r.confidence:.2f}", "符合" if r.valid else "不符", action)
    out.print(table)


# ----- vehicles --------------------------------------------------------------------------------------
@vehicle_app.command("import")
@reports_errors
def vehicle_import(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX：车牌号(plate)、车主(owner)、手机号(phone)")],
    skip_invalid: SkipInvalid = False,
) -> None:
    """导入车辆登记（按车牌新增或更新）；手机号加密后入库。"""
    rt = runtime()
    rows = read_table(file)
    cipher = rt.phone_cipher  # before the progress bar: a missing key is one error line
    with progress_bar() as progress:
        report = vehicles.import_vehicles(rows, rt.uow(), rt.clock, cipher, skip_invalid, progress)
    print_report(report, "车辆")


# ----- SMS -------------------------------------------------------------------------------------------
STATE_LABELS = {
    SmsState.QUEUED: "待发送",
    SmsState.SENT: "已发送",
    SmsState.DELIVERED: "已送达",
    SmsState.UNDELIVERED: "未送达",
    SmsState.FAILED: "失败",
}


@sms_app.command("outbox")
@reports_errors
def sms_outbox(
    state: Annotated[SmsState | None, typer.Option(help="只看某一状态")] = None,
    limit: Annotated[int, typer.Option(help="最多显示条数")] = 50,
) -> None:
    """短信发件箱（手机号脱敏显示）。"""
    with runtime().uow() as uow:
        messages = uow.video.outbox(state, limit)
    table = Table("编号", "手机号", "状态", "尝试", "下次发送", "内容", "错误")
    for m in messages:
        due = m.next_attempt_at.astimezone(LOCAL).strftime("%m-%d %H:%M") if m.next_attempt_at else ""
        table.add_row(
            str(m.id), m.phone_masked, STATE_LABELS[m.state], str(m.attempts), due, m.body, m.last_error or ""
        )
    out.print(table)


@sms_app.command("send")
@reports_errors
def sms_send() -> None:
    """发送到期的短信（免打扰时段与限频会顺延，失败按退避重试）。"""
    rt = runtime()
    report = sms_service.deliver_sms(rt.uow(), rt.clock, rt.sms_gateway(), rt.phone_cipher)
    out.print(
        f"已发送 {report.sent} 条，待重试 {report.retried} 条，失败 {report.failed} 条，顺延 {report.deferred} 条"
    )


@sms_app.command("retry")
@reports_errors
def sms_retry(sms_id: Annotated[int, typer.Argument(help="短信编号")]) -> None:
    """把失败或未送达的短信重新放回发送队列。"""
    rt = runtime()
    sms_service.retry_sms(sms_id, rt.uow(), rt.clock)
    out.print(f"短信 {sms_id} 已重新排队")


# ----- review queue ----------------------------------------------------------------------------------
@review_app.command("list")
@reports_errors
def review_list() -> None:
    """待人工复核的车牌识别结果。"""
    with runtime().uow() as uow:
        notices = uow.video.notices(NoticeState.REVIEW)
    table = Table("编号", "摄像头", "区域", "识别结果", "置信度", "抓拍时间", "抓拍图")
    for n in notices:
        at = n.captured_at.astimezone(LOCAL).strftime("%m-%d %H:%M")
        table.add_row(
            str(n.id), n.camera_code, n.zone_code, n.plate_read or "（无）", f"{n.plate_confidence:.2f}", at,
            n.first_capture[:16],
        )  # fmt: skip
    out.print(table)


@review_app.command("decide")
@reports_errors
def review_decide(
    notice_id: Annotated[int, typer.Argument(help="告知单编号")],
    plate: Annotated[str | None, typer.Option(help="人工确认的车牌号（可更正）")] = None,
    reject: Annotated[bool, typer.Option("--reject", help="驳回：非违停、看不清或无车")] = False,
    reviewer: Annotated[str, typer.Option(help="复核人账号")] = "reviewer",
) -> None:
    """确认（可更正车牌）后短信告知车主，或驳回。"""
    if (plate is None) == (not reject):
        raise InvalidInputError("review.choose_one", "请给出 --plate 或 --reject 之一")
    rt = runtime()
    notice = review_notice(ReviewNotice(notice_id, reviewer, plate), rt.uow(), rt.clock, deps(rt))
    who = mask_plate(notice.plate) if notice.plate else ""
    out.print(f"告知单 {notice_id}：{notice.state.label} {who}{'，案件 ' + notice.case_no if notice.case_no else ''}")


# ----- the demo --------------------------------------------------------------------------------------
def start_cameras(rt: Runtime, stop: threading.Event, replay_s: float = 2.0, device: str = "auto") -> threading.Thread:
    """Register the demo cameras and their vehicle owners, then replay each camera's recorded frames through
    the real pipeline in a background thread, one frame every `replay_s` seconds, sending due SMS through the
    local fake provider; stops when `stop` is set. The recordings keep their own spacing in time, shifted so
    that they end now: the cases they open are today's."""
    definitions = load_camera_file(packaged_video() / "cameras.json")
    video.register_cameras(definitions, rt.uow())
    cipher = rt.phone_cipher
    vehicles.import_vehicles(read_table(packaged_video() / "demo_vehicles.csv"), rt.uow(), rt.clock, cipher)
    enforcement = Deps(
        rt.evidence, cipher, messagebus(rt.uow(), rt.clock, rt.policy()).handle, EnforcementPolicy(15, DESK)
    )
    provider = rt.sms_gateway("fake")

    def loop() -> None:
        runs: list[tuple[CameraRun, OpenCvVision, str]] = []
        with rt.uow() as uow:
            for d in definitions:
                camera = uow.video.camera(d["code"])
                if camera is not None:
                    runs.append((CameraRun(camera), rt.vision(d, device), d["source"]))
        recorded = {source: list(frames(source)) for _, _, source in runs}
        end = max((f.taken_at for shots in recorded.values() for f in shots), default=rt.clock.now())
        shift = rt.clock.now() - end
        streams = [
            (run, vision, iter([replace(f, taken_at=f.taken_at + shift) for f in recorded[source]]))
            for run, vision, source in runs
        ]
        while streams and not stop.is_set():
            for run, vision, stream in list(streams):
                frame = next(stream, None)
                if frame is None:
                    streams.remove((run, vision, stream))
                    continue
                clock = video.FrameClock(frame.taken_at)
                report = process_frame(run, frame, vision, rt.uow(), clock, enforcement)
                sms_service.deliver_sms(rt.uow(), clock, provider, cipher)
                for case_no in report.cases:
                    log.info("camera %s opened case %s", run.camera.code, case_no)
                for line in report.errors:
                    log.warning("camera %s: %s", run.camera.code, line)
            stop.wait(replay_s)

    thread = threading.Thread(target=loop, name="xiuhua-cameras", daemon=True)
    thread.start()
    return thread
