"""Commands of IoT sensing: devices, rules, dead letters, the MQTT ingest loop and the sensor simulator."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiuhua.bootstrap import Runtime, messagebus
from xiuhua.entrypoints.cli.console import SkipInvalid, err, export_table, out, print_report, reports_errors, runtime
from xiuhua.kernel.errors import ConflictError, InvalidInputError
from xiuhua.platform import packagedata
from xiuhua.platform.tabular import read_table
from xiuhua.sensing.adapters.mqtt.broker import start_local_broker
from xiuhua.sensing.adapters.mqtt.client import (
    BrokerSettings,
    BrokerUnavailableError,
    Delivery,
    Publisher,
    Subscriber,
    broker_reachable,
)
from xiuhua.sensing.adapters.mqtt.simulator import Mix, SensorSimulator
from xiuhua.sensing.domain.model import CHINA, KINDS, Rejection
from xiuhua.sensing.services import bikes, feeds
from xiuhua.sensing.services import ingest as sensing
from xiuhua.sensing.services.ingest import Ingest, IngestReport, Locate, Message

log = logging.getLogger(__name__)

device_app = typer.Typer(help="物联感知设备：登记、导入导出（CSV/XLSX）、查看读数与告警。", no_args_is_help=True)
rule_app = typer.Typer(help="物联感知规则：阈值持续、设备告警、渣土车路线与时段。", no_args_is_help=True)
feed_app = typer.Typer(
    help="业务系统事件接入（环卫、供水、燃气、供热、园林、执法）：按映射转为案件，按事件编号去重。",
    no_args_is_help=True,
)
bikes_app = typer.Typer(help="共享单车：运营企业、车辆位置接入、停放区外超时立案、合规率。", no_args_is_help=True)
deadletter_app = typer.Typer(
    help="被拒收的消息（死信）：格式错误、未登记设备、超量程、时间异常。", no_args_is_help=True
)

Host = Annotated[str | None, typer.Option(help="MQTT 服务器地址（默认 XIUHUA_MQTT_HOST，否则 127.0.0.1）")]
Port = Annotated[int | None, typer.Option(help="MQTT 服务器端口（默认 XIUHUA_MQTT_PORT，否则 1883）")]


def register(app: typer.Typer) -> None:
    app.add_typer(device_app, name="device")
    app.add_typer(rule_app, name="rule")
    app.add_typer(deadletter_app, name="deadletter")
    app.add_typer(feed_app, name="feed")
    app.add_typer(bikes_app, name="bikes")
    app.command("ingest")(ingest)
    app.command("simulate-sensors")(simulate_sensors)


def _seed(rt: Runtime) -> None:
    sensing.seed_sensing(
        packagedata.read("sensing/rules_default.csv"),
        packagedata.read("sensing/feed_mappings_default.csv"),
        rt.uow(),
        rt.clock,
    )


def _locate(rt: Runtime) -> Locate | None:
    """The city's locator when it has outlines (mobile devices' cases are placed where they were seen)."""
    locator = rt.locator()
    return locator.locate if locator.grid_codes or any(locator.region_codes.values()) else None


# ----- devices -----------------------------------------------------------------------------------------
@device_app.command("import")
@reports_errors
def device_import(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入设备表（列：code, kind, name, lon, lat, component_id, department_code, permit 等）。"""
    rt = runtime()
    report = sensing.import_devices(read_table(path), rt.uow(), rt.clock, _locate(rt), skip_invalid=skip_invalid)
    print_report(report, "设备")


@device_app.command("list")
@reports_errors
def device_list(
    kind: Annotated[str | None, typer.Option(help=f"设备类型：{'、'.join(KINDS)}")] = None,
    export: Annotated[Path | None, typer.Option(help="导出到 CSV/XLSX 文件")] = None,
    limit: Annotated[int, typer.Option(help="最多显示多少台")] = 50,
) -> None:
    """列出登记的设备（或导出）。"""
    devices = sensing.list_devices(runtime().uow(), kind, None if export else limit)
    if export:
        export_table(export, sensing.DEVICE_COLUMNS, (sensing.device_row(d) for d in devices))
        return
    table = Table("编号", "类型", "名称", "部件", "权属部门", "最近读数（北京时间）")
    for d in devices:
        last = (d.last_reading_at + CHINA).strftime("%Y-%m-%d %H:%M:%S") if d.last_reading_at else "—"
        table.add_row(d.code, KINDS[d.kind].label, d.name, d.component_id or "—", d.department_code, last)
    out.print(table)


@device_app.command("show")
@reports_errors
def device_show(code: str, readings: Annotated[int, typer.Option(help="显示最近多少条读数")] = 10) -> None:
    """显示一台设备、最近读数与告警。"""
    detail = sensing.show_device(runtime().uow(), code, readings)
    d, kind = detail.device, KINDS[detail.device.kind]
    out.print(f"{d.code} {d.name}（{kind.label}）{'' if d.active else '［停用］'}", markup=False)
    out.print(f"位置 {d.lon:.6f}, {d.lat:.6f} {d.address}；社区 {d.community_code}；部件 {d.component_id or '—'}")
    table = Table("时间（北京时间）", *(f"{f.label}（{f.unit}）" for f in kind.fields), "告警")
    for r in detail.readings:
        cells = ["—" if v is None else f"{v:g}" for v in r.values[: len(kind.fields)]]
        table.add_row((r.measured_at + CHINA).strftime("%m-%d %H:%M:%S"), *cells, "是" if r.alarm else "")
    out.print(table)
    alarms = Table("规则", "状态", "开始", "次数", "抖动", "峰值", "案件")
    for e in detail.episodes:
        peak = "—" if e.peak is None else f"{e.peak:g}"
        start = (e.started_at + CHINA).strftime("%m-%d %H:%M")
        alarms.add_row(e.rule_id, e.phase.label, start, str(e.breaches), str(e.flaps), peak, e.case_no or "—")
    out.print(alarms)


@device_app.command("seed-demo")
@reports_errors
def device_seed_demo(per_kind: Annotated[int, typer.Option(help="每类设备数")] = 20) -> None:
    """为演示城市登记传感器（装在已登记的井盖、垃圾箱、路灯上，另有扬尘、油烟、管网、排水与渣土车）。"""
    rt = runtime()
    _seed(rt)
    out.print(f"已登记演示设备 {sensing.seed_demo_devices(rt.uow(), rt.clock, per_kind)} 台")


@device_app.command("layer")
@reports_errors
def device_layer(path: Path) -> None:
    """把设备图层（含告警、离线状态）写成 GeoJSON 文件。"""
    rt = runtime()
    layer = sensing.device_layer(rt.uow(), rt.clock.now())
    path.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")
    out.print(f"已写出 {len(layer['features'])} 台设备到 {path}")


# ----- rules -------------------------------------------------------------------------------------------
@rule_app.command("list")
@reports_errors
def rule_list() -> None:
    """列出规则。"""
    rt = runtime()
    _seed(rt)
    table = Table("编号", "设备类型", "条件", "持续", "恢复观察", "类别", "紧急", "启用")
    for r in sensing.list_rules(rt.uow()):
        kind = KINDS[r.kind]
        table.add_row(
            r.id, kind.label, f"{r.label}：{r.describe(kind)}", f"{r.duration_minutes} 分", f"{r.clear_minutes} 分",
            f"{r.class_kind.label} {r.class_code}", "是" if r.urgent else "", "是" if r.enabled else "否",
        )  # fmt: skip
    out.print(table)


@rule_app.command("set")
@reports_errors
def rule_set(
    rule_id: str,
    threshold: Annotated[float | None, typer.Option(help="新阈值")] = None,
    duration: Annotated[int | None, typer.Option(help="条件须持续的分钟数")] = None,
    clear: Annotated[int | None, typer.Option(help="恢复正常须持续的分钟数（抖动抑制）")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="启用或停用")] = None,
) -> None:
    """修改一条规则；正在运行的 ingest 在下一批消息即生效，无需重启。"""
    rt = runtime()
    _seed(rt)
    cmd = sensing.ChangeRule(rule_id, threshold, duration, clear, enabled)
    rule = sensing.change_rule(cmd, rt.uow(), rt.clock)
    out.print(f"规则 {rule.id} 已更新：{rule.describe(KINDS[rule.kind])}，{'启用' if rule.enabled else '停用'}")


@rule_app.command("import")
@reports_errors
def rule_import(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入规则表（列同 data/sensing/rules_default.csv），按编号新增或替换。"""
    rt = runtime()
    _seed(rt)
    print_report(sensing.set_rules(read_table(path), rt.uow(), rt.clock, skip_invalid=skip_invalid), "规则")


# ----- dead letters ------------------------------------------------------------------------------------
@deadletter_app.command("list")
@reports_errors
def deadletter_list(
    reason: Annotated[str | None, typer.Option(help="只看某一原因")] = None,
    limit: Annotated[int, typer.Option(help="最多显示多少条")] = 20,
) -> None:
    """列出最近的死信及各原因的数量。"""
    letters, counts = sensing.list_dead_letters(runtime().uow(), reason, limit)
    out.print("、".join(f"{k} {v}" for k, v in sorted(counts.items())) or "没有死信")
    table = Table("时间（北京时间）", "原因", "设备", "说明", "消息")
    for x in letters:
        when = (x.received_at + CHINA).strftime("%m-%d %H:%M:%S")
        table.add_row(when, x.reason, x.device_code or "—", x.message, x.payload[:60])
    out.print(table)


# ----- business feeds and shared bikes -----------------------------------------------------------------
@feed_app.command("import")
@reports_errors
def feed_import(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入业务系统事件表（列：source, event_id, event_type, lon, lat, description 等），新事件立案。"""
    rt = runtime()
    _seed(rt)
    uow = rt.uow()
    handle = messagebus(uow, rt.clock, rt.policy()).handle
    report = feeds.import_feed_table(read_table(path), uow, rt.clock, handle, _locate(rt), skip_invalid=skip_invalid)
    out.print(f"新立案 {len(report.created)} 件，已接入过 {len(report.existing)} 件")
    for event_id, case_no in report.created:
        out.print(f"  {event_id} → 案件 {case_no}")
    for error in report.skipped:
        err.print(f"  跳过 {error}", markup=False)


@feed_app.command("map")
@reports_errors
def feed_map(path: Path) -> None:
    """导入事件类型到案件类别的映射（列：source, event_type, class_kind, class_code, urgent）。"""
    rt = runtime()
    _seed(rt)
    out.print(f"已导入映射 {feeds.set_feed_mappings(read_table(path), rt.uow())} 条")


@bikes_app.command("operators")
@reports_errors
def bikes_operators(path: Path) -> None:
    """导入共享单车运营企业（列：code, name, account, grace_minutes）。"""
    print_report(bikes.import_operators(read_table(path), runtime().uow()), "运营企业")


@bikes_app.command("ingest")
@reports_errors
def bikes_ingest(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入车辆位置（列：operator, bike_id, lon, lat, ts），停放区外超过宽限时间的立案。"""
    rt = runtime()
    locate = rt.locator().locate
    uow = rt.uow()
    handle = messagebus(uow, rt.clock, rt.policy()).handle
    report = bikes.ingest_positions(read_table(path), uow, rt.clock, handle, locate, skip_invalid=skip_invalid)
    out.print(f"位置 {report.positions} 条，其中在停放区内 {report.inside} 条；新立案 {len(report.cases)} 件")
    for error in report.case_errors:
        err.print(f"  立案失败：{error}", markup=False)


@bikes_app.command("compliance")
@reports_errors
def bikes_compliance() -> None:
    """各运营企业的合规率（位置上报中在停放区内的比例）与立案数。"""
    table = Table("企业", "名称", "上报", "区内", "合规率", "立案")
    for c in bikes.compliance(runtime().uow()):
        rate = "—" if c.rate is None else f"{c.rate:.1%}"
        table.add_row(c.operator, c.name, str(c.reports), str(c.inside), rate, str(c.cases))
    out.print(table)


# ----- ingest and simulate -----------------------------------------------------------------------------
class IngestLoop:
    """Turns MQTT deliveries into committed batches (a message that fails even alone is dead-lettered rather
    than holding back the rest); counts what it did."""

    def __init__(self, rt: Runtime, locate: Locate | None, ingest: Ingest | None = None) -> None:
        self.rt, self.locate = rt, locate
        self.policy = rt.policy()
        self.ingest = ingest or self._ingest
        self.total = IngestReport()

    def _ingest(self, messages: Sequence[Message]) -> IngestReport:
        for _attempt in range(2):
            try:
                return self._ingest_once(messages)
            except ConflictError:  # another ingest process wrote the same alarm at the same moment: retry
                continue
        return self._ingest_once(messages)

    def _ingest_once(self, messages: Sequence[Message]) -> IngestReport:
        uow = self.rt.uow()
        handle = messagebus(uow, self.rt.clock, self.policy).handle
        return sensing.ingest_messages(messages, uow, self.rt.clock, handle, self.locate)

    def __call__(self, batch: Sequence[Delivery]) -> None:
        messages = [Message(d.topic, d.payload) for d in batch]
        report = sensing.ingest_isolating(messages, self.ingest, self.rt.uow(), self.rt.clock)
        self.total.add(report)
        if failed := report.rejected.get(Rejection.FAILED.value):
            log.warning("%d message(s) could not be ingested and were dead-lettered as failed", failed)
        for e in report.case_errors:
            log.warning("alarm without a case: %s", e)
        for c in report.cases:
            log.info("case %s from %s (%s)", c.case_no, c.device_code, c.rule_id)


def start_sensing(
    rt: Runtime, stop: threading.Event, *, host: str = "127.0.0.1", port: int = 1883, simulate: bool = True
) -> list[threading.Thread]:
    """For the demo: register demo devices, then run ingestion (and the simulator) on threads until ``stop``.
    With no broker on a loopback address a private Mosquitto is started there (and stopped with ``stop``).
    Raises BrokerUnavailableError when no broker answers and none can be started."""
    threads: list[threading.Thread] = []
    if host in ("127.0.0.1", "localhost") and not broker_reachable(host, port):
        broker = start_local_broker(port)

        def stop_broker() -> None:
            stop.wait()
            broker.terminate()
            broker.wait(10)

        threads.append(threading.Thread(target=stop_broker, name="xiuhua-mqtt-broker", daemon=True))
    _seed(rt)
    with rt.uow() as uow:
        have = bool(uow.sensing.devices(limit=1))
    if not have:
        sensing.seed_demo_devices(rt.uow(), rt.clock)
    loop = IngestLoop(rt, _locate(rt))
    subscriber = Subscriber(rt.broker(host, port, client_id="xiuhua-demo-ingest"), loop)
    subscriber.start()

    def ingest_thread() -> None:
        try:
            subscriber.run(stop)
        finally:
            subscriber.stop()

    threads.append(threading.Thread(target=ingest_thread, name="xiuhua-ingest", daemon=True))
    if simulate:
        threads.append(
            threading.Thread(target=run_simulator, args=(rt, rt.broker(host, port), stop, 10.0, 0, 0), daemon=True)
        )
    for thread in threads:
        thread.start()
    return threads


def run_simulator(
    rt: Runtime, settings: BrokerSettings, stop: threading.Event, interval: float, ticks: int, burst: int
) -> int:
    """Publish a reading per device every ``interval`` seconds (``ticks`` times, 0: until stopped)."""
    devices = sensing.list_devices(rt.uow())
    if not devices:
        raise InvalidInputError("sensing.no_devices", "没有登记的设备：先运行 xiuhua device import 或 device seed-demo")
    simulator = SensorSimulator(devices, random.Random(410200), Mix())
    for kind in ("manhole", "lamp"):  # alarms that open a case at once, so the demo shows one within a tick
        if first := next((d for d in devices if d.kind == kind and d.active), None):
            simulator.start_alarm(first.code, 3)
    publisher = Publisher(settings, client_id="")
    publisher.start()
    sent = 0
    try:
        if burst:
            messages = simulator.burst(rt.clock.now(), burst)
            publisher.publish_all(messages)
            sent += len(messages)
        done = 0
        while not stop.is_set() and (ticks == 0 or done < ticks):
            messages = simulator.tick(rt.clock.now())
            publisher.publish_all(messages)
            sent += len(messages)
            done += 1
            if ticks == 0 or done < ticks:
                stop.wait(interval)
    finally:
        publisher.stop()
    return sent


@reports_errors
def ingest(
    host: Host = None,
    port: Port = None,
    client_id: Annotated[str, typer.Option(help="客户端标识：同一标识续用同一持久会话")] = "xiuhua-ingest",
    topic: Annotated[str, typer.Option(help="订阅的主题")] = "xiuhua/sensors/#",
    batch: Annotated[int, typer.Option(help="每批最多多少条消息（一批一个事务）")] = 500,
    seconds: Annotated[float, typer.Option(help="运行多少秒后退出（0：直到 Ctrl-C）")] = 0,
) -> None:
    """订阅 MQTT（QoS 1、持久会话），校验、入库、按规则生成物联感知案件；提交后才确认消息。"""
    rt = runtime()
    _seed(rt)
    loop = IngestLoop(rt, _locate(rt))
    broker = rt.broker(host, port, client_id=client_id, topic=topic)
    subscriber = Subscriber(broker, loop, batch_size=batch)
    try:
        subscriber.start()
    except BrokerUnavailableError as exc:
        raise InvalidInputError("sensing.broker_unavailable", f"无法连接 MQTT 服务器 {exc}") from None
    stop = threading.Event()
    if seconds:
        threading.Timer(seconds, stop.set).start()
    out.print(f"正在接收 {broker.host}:{broker.port} {topic}（Ctrl-C 结束）")
    started = time.monotonic()
    try:
        subscriber.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        subscriber.stop()
    t = loop.total
    rejected = "、".join(f"{k} {v}" for k, v in sorted(t.rejected.items())) or "0"
    out.print(
        f"接收 {t.received} 条，入库 {t.stored} 条，拒收 {rejected}，"
        f"生成或并入案件 {len(t.cases)} 个，用时 {time.monotonic() - started:.1f} 秒"
    )
    for c in t.cases:
        out.print(f"  案件 {c.case_no} ← {c.device_code}（{c.rule_id}）{'' if c.created else '（并入未结案件）'}")
    for e in t.case_errors:
        err.print(f"  立案失败：{e}", markup=False)


@reports_errors
def simulate_sensors(
    host: Host = None,
    port: Port = None,
    interval: Annotated[float, typer.Option(help="每轮间隔（秒）")] = 10.0,
    ticks: Annotated[int, typer.Option(help="发送多少轮（0：直到 Ctrl-C）")] = 0,
    burst: Annotated[int, typer.Option(help="开始时每台设备补发多少条历史读数（网关积压）")] = 0,
) -> None:
    """按登记的设备发布模拟读数：正常、告警、故障（超量程）、格式错误、未登记设备与突发。"""
    rt = runtime()
    stop = threading.Event()
    try:
        sent = run_simulator(rt, rt.broker(host, port), stop, interval, ticks, burst)
    except BrokerUnavailableError as exc:
        raise InvalidInputError("sensing.broker_unavailable", f"无法连接 MQTT 服务器 {exc}") from None
    except KeyboardInterrupt:
        stop.set()
        sent = 0
    out.print(f"已发布 {sent} 条消息")
