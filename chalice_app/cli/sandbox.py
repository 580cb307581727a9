"""`costguard sandbox up` and `costguard sandbox exec -- COMMAND…`: the loopback sandbox for trying costguard
without an AWS account. The sandbox package is a development dependency, imported only when these commands run."""
from __future__ import annotations

import subprocess
import sys
import threading
from typing import List

import typer

from chalice_app.cli.common import error_line

app = typer.Typer(help="The loopback sandbox: AWS (moto), a Kubernetes API over HTTPS, a Slack receiver and the "
                  "OpenFaaS EKS + Karpenter guide's cluster, with the stage bootstrapped.", no_args_is_help=True)
MAX_FUNCTIONS, MAX_NODES = 5000, 500  # bounds, so a typo cannot make the sandbox seed for hours
SizeOptions = {"functions": typer.Option(20, "--functions", min=0, max=MAX_FUNCTIONS,
                                         help="OpenFaaS functions to seed"),
               "nodes": typer.Option(6, "--nodes", min=3, max=MAX_NODES,
                                     help="nodes to seed (node group, default and spot pools: 3 at least)")}


def _start(functions: int, nodes: int):
    try:
        from sandbox.operator import OperatorSandbox
    except ImportError as error:  # a Lambda bundle or an install without the development requirements
        typer.echo(error_line(f"the sandbox needs the development requirements ({error.name} is missing): "
                              f"run `make install`"), err=True)
        raise typer.Exit(2) from None
    return OperatorSandbox(functions=functions, nodes=nodes)


@app.command("up")
def up(functions: int = SizeOptions["functions"], nodes: int = SizeOptions["nodes"]) -> None:
    """Start the sandbox, print the shell's `export` lines and the kubeconfig path, run until Ctrl-C."""
    with _start(functions, nodes) as operator:
        sb = operator.sandbox
        typer.echo(f"# costguard sandbox: AWS {sb.aws.endpoint}, Kubernetes API {sb.kube.url}, "
                   f"Slack receiver {sb.slack.url}")
        typer.echo(f"# stage {sb.stage} bootstrapped ({operator.report.summary()}); "
                   f"kubeconfig (sandbox admin): {operator.kubeconfig_path}")
        typer.echo("# paste these into another shell, then e.g. `costguard status` or `kubectl get nodepools`:")
        for line in operator.export_lines():
            typer.echo(line)
        typer.echo("# Ctrl-C stops the sandbox", err=True)
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("# sandbox stopped", err=True)


@app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_command(command: List[str] = typer.Argument(..., help="the command and its arguments (after --)"),
                 functions: int = SizeOptions["functions"], nodes: int = SizeOptions["nodes"]) -> None:
    """Run one command against a sandbox started for it, with the environment `sandbox up` prints."""
    with _start(functions, nodes) as operator:
        try:
            completed = subprocess.run(command, env=operator.shell_environment(), check=False)
        except FileNotFoundError:
            typer.echo(error_line(f"command not found: {command[0]}"), err=True)
            raise typer.Exit(127) from None
    raise typer.Exit(completed.returncode)
