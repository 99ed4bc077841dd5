"""`xiuhua account`: logins from the server's own command line (the operator acts as an administrator).
Every change is audited under the actor ``cli``; none may leave the city without an active administrator."""

from __future__ import annotations

from typing import Annotated

import typer

from xiuhua.entrypoints.cli.console import out, reports_errors, runtime
from xiuhua.kernel.actor import Role
from xiuhua.org.domain.accounts import AccountKind, Principal
from xiuhua.org.services import accounts

OPERATOR = Principal("cli", AccountKind.STAFF, frozenset({Role.ADMIN}))
"""Whoever runs the command on the server: trusted as an administrator, audited as ``cli``."""

account_app = typer.Typer(help="登录账号：停用、启用、删除、设置工作人员密码。", no_args_is_help=True)
Username = Annotated[str, typer.Argument(help="用户名")]


def register(app: typer.Typer) -> None:
    app.add_typer(account_app, name="account")


@account_app.command("disable")
@reports_errors
def disable(username: Username) -> None:
    """停用登录并吊销其全部会话（不能停用最后一位启用的管理员）。"""
    rt = runtime()
    accounts.set_account_active(OPERATOR, username, False, rt.uow(), rt.clock, "cli")
    out.print(f"已停用 {username}")


@account_app.command("enable")
@reports_errors
def enable(username: Username) -> None:
    """启用登录。"""
    rt = runtime()
    accounts.set_account_active(OPERATOR, username, True, rt.uow(), rt.clock, "cli")
    out.print(f"已启用 {username}")


@account_app.command("delete")
@reports_errors
def delete(username: Username) -> None:
    """删除登录及其会话，人员记录保留（不能删除最后一位启用的管理员）。"""
    rt = runtime()
    accounts.delete_account(OPERATOR, username, rt.uow(), rt.clock, "cli")
    out.print(f"已删除 {username} 的登录")


@account_app.command("set-password")
@reports_errors
def set_password(
    username: Username,
    password: Annotated[str, typer.Option(prompt="新密码", hide_input=True, confirmation_prompt=True)],
) -> None:
    """为工作人员设置登录密码（没有登录时开通，例如城市的第一位管理员）；其已有会话结束。"""
    rt = runtime()
    accounts.set_staff_password(accounts.SetPassword(OPERATOR, username, password, "cli"), rt.uow(), rt.clock,
                                accounts.AuthRules())  # fmt: skip
    out.print(f"已设置 {username} 的密码")
