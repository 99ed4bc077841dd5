"""`xiuhua demo`: the Kaifeng demo city built, a month of its life simulated, and its timers kept running."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from xiuhua.cases.domain.workflow import SOURCE_LABELS, STATE_LABELS, Source, State
from xiuhua.demo.city import DEMO_PASSWORD, DemoSummary, build_demo, demo_api_key, demo_logins
from xiuhua.demo.simulation import SimulationConfig, SimulationSummary, simulate
from xiuhua.demo.sources import demo_sources
from xiuhua.entrypoints.cli.cases import run_worker
from xiuhua.entrypoints.cli.console import err, out, progress_bar, reports_errors, runtime
from xiuhua.entrypoints.cli.sensing import start_sensing
from xiuhua.entrypoints.cli.serve import run_api
from xiuhua.entrypoints.cli.video import start_cameras
from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import InvalidInputError


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    days: Annotated[int, typer.Option(help="模拟多少天的城市运行")] = 30,
    seed: Annotated[int, typer.Option(help="随机种子：同一种子、同一起始日得到同样的结果")] = 1,
    start: Annotated[str | None, typer.Option(help="模拟起始日 YYYY-MM-DD（默认：今天往前 days 天）")] = None,
    rate: Annotated[int, typer.Option(help="每天上报的问题数")] = 60,
    census_scale: Annotated[float, typer.Option(help="部件普查密度倍数（1.0 约 12 万个部件）")] = 1.0,
    simulate_month: Annotated[bool, typer.Option("--simulate/--no-simulate", help="是否模拟城市运行")] = True,
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="建好后提供接口（127.0.0.1）并运行定时任务，直到 Ctrl-C"),
    ] = True,
    port: Annotated[int, typer.Option(help="接口端口")] = 8000,
) -> None:
    """建立开封演示城市，模拟一段时间的案件办理，打印汇总；默认随后提供接口并持续运行。"""
    build(days, seed, start, rate, simulate_month, census_scale)
    if serve:
        serve_demo(port)


@reports_errors
def serve_demo(port: int) -> None:
    """The API and console on 127.0.0.1, with the timer worker, the sensors and the cameras beside it."""
    rt = runtime()
    shown = demo_logins(rt.uow(), rt.clock)
    table = Table(title=f"演示账号（密码均为 {DEMO_PASSWORD}）")
    table.add_column("角色")
    table.add_column("用户名")
    for role, username in shown.items():
        table.add_row(role.label, username)
    out.print(table)
    base = f"http://127.0.0.1:{port}"
    out.print(f"控制台：{base}/console/  接口：{base}/api/v1  文档：{base}/docs（离线可用）")
    out.print(f"Open311：{base}/open311/v2/discovery.json  演示密钥 api_key={demo_api_key(rt.uow(), rt.clock)}")
    stop = threading.Event()
    threading.Thread(target=run_worker, args=(False, 60), daemon=True, name="timer-worker").start()
    out.print("定时任务每分钟扫描超期与督办")
    try:
        start_sensing(rt, stop)
        out.print("物联感知：模拟传感器经 MQTT（127.0.0.1:1883）上报，告警自动立案")
    except OSError as exc:  # no broker, and none could be started here
        err.print(f"物联感知未启动：{exc}", markup=False)
    start_cameras(rt, stop)
    out.print("视频：演示摄像头回放录制画面，识别占道经营与违停（短信发往本地模拟网关）")
    out.print("Ctrl-C 结束")
    with contextlib.suppress(KeyboardInterrupt):
        run_api("127.0.0.1", port)
    stop.set()
    out.print("已停止")


@reports_errors
def build(days: int, seed: int, start: str | None, rate: int, simulate_month: bool, census_scale: float) -> None:
    if days < 1 or rate < 1 or census_scale < 0:
        raise InvalidInputError("demo.bad_option", "天数与每日上报数须为正整数，普查密度不能为负")
    rt = runtime()
    with progress_bar() as report:
        city = build_demo(demo_sources(census_scale=census_scale), rt.uow(), rt.calendar(), report)
    print_city(city, rt.engine.url.render_as_string())
    if not simulate_month:
        return
    with rt.uow() as uow:
        existing = sum(uow.cases.count_by("state").values())
    if existing:
        out.print(f"数据库中已有 {existing} 个案件，跳过模拟（删除 var/xiuhua.db 可重新生成）")
        return
    policy = rt.policy()
    first_day = _start_day(start, days, policy.timing.calendar.local(int(rt.clock.now().timestamp())))
    config = SimulationConfig(days=days, seed=seed, start=first_day, reports_per_day=rate)
    with progress_bar() as report:
        summary = simulate(config, rt.uow, policy, rt.evidence, report)
    print_simulation(summary, config)


def _start_day(text: str | None, days: int, today: datetime) -> datetime:
    midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
    if text is None:
        return midnight - timedelta(days=days)
    try:
        day = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError("time.unparseable", f"起始日“{text}”无效，应为 YYYY-MM-DD") from None
    return midnight.replace(year=day.year, month=day.month, day=day.day)


def print_city(summary: DemoSummary, database: str) -> None:
    table = Table(title="开封演示城市已就绪")
    table.add_column("内容")
    table.add_column("数量", justify="right")
    for level, label in (("city", "市"), ("district", "区县"), ("street", "街道乡镇"), ("community", "社区村")):
        table.add_row(f"行政区划·{label}", str(summary.regions.get(level, 0)))
    table.add_row("部件类别", str(summary.classes.get("component", 0)))
    table.add_row("事项类别", str(summary.classes.get("matter", 0)))
    table.add_row("立案结案标准", str(summary.standards))
    table.add_row("区划边界（演示用）", str(summary.shapes))
    table.add_row("单元网格", str(summary.grids))
    table.add_row("部件（普查生成）", str(summary.components))
    for kind, label in (("supervision_center", "监督中心"), ("command_center", "指挥中心"), ("department", "专业部门")):
        table.add_row(label, str(summary.organizations.get(kind, 0)))
    for role in Role:
        if role not in (Role.SYSTEM, Role.CITIZEN):
            table.add_row(f"账号·{role.label}", str(summary.staff.get(role.value, 0)))
    out.print(table)
    out.print(f"数据库：{database}", soft_wrap=True, highlight=False)


def print_simulation(summary: SimulationSummary, config: SimulationConfig) -> None:
    last = config.start + timedelta(days=config.days - 1)
    heading = f"模拟 {config.start:%Y-%m-%d} 至 {last:%Y-%m-%d}（种子 {config.seed}）：{summary.cases} 个案件"
    out.print(heading, soft_wrap=True, highlight=False)
    table = Table(title="按状态")
    table.add_column("状态")
    table.add_column("案件", justify="right")
    for state in State:
        table.add_row(STATE_LABELS[state], str(summary.by_state.get(state.value, 0)))
    out.print(table)
    sources = Table(title="按来源")
    sources.add_column("来源")
    sources.add_column("案件", justify="right")
    for source in Source:
        sources.add_row(SOURCE_LABELS[source], str(summary.by_source.get(source.value, 0)))
    out.print(sources)
    total_actions = sum(summary.actions.values())
    out.print(f"办理操作 {total_actions} 次，定时扫描 {summary.sweeps} 次，自动督办 {summary.auto_urged} 次")
