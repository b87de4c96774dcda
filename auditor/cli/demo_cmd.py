"""auditor demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from auditor.cli.common import LangOpt, handle_errors, out
from auditor.demo.run import demo as run_demo
from auditor.i18n import _
from auditor.problems import display_path


@handle_errors
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the demo workspace.")] = Path(
        "demo-workspace"),
    serve: Annotated[float, typer.Option("--serve", help="Keep the services running this many seconds "
                                                         "(0: stop at the end).")] = 0,
    lang: LangOpt = None,
) -> None:
    """Start services on loopback, write a demo workspace that declares them, and run the auditor on it."""
    started = time.monotonic()
    with run_demo(directory) as run:
        t = Table(title=_("Services started on loopback"))
        for col in (_("System"), _("Host"), _("Listening on"), _("Declared port"), _("Service")):
            t.add_column(col)
        for s in run.served:
            t.add_row(s.system, s.host, f"{s.address}:{s.port}", str(s.declared_port), s.what)
        out.print(t)
        out.print(_("Workspace written: {dir}").format(dir=display_path(run.workspace)))
        assert run.sync is not None
        out.print(_("Inventory valid: {n} systems; loaded into {store} ({added} added, {changed} changed).").format(
            n=run.systems, store=run.store_url, added=run.sync.added, changed=run.sync.changed))
        if serve > 0:
            out.print(_("Services stay up for {s:.0f} s; in another terminal: cd {dir} && auditor inventory list")
                      .format(s=serve, dir=display_path(run.workspace)))
            time.sleep(serve)
    out.print(_("Demo finished in {s:.1f} s.").format(s=time.monotonic() - started))
