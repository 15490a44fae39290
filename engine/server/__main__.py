"""``python -m engine.server``: run the local engine over HTTP (see ``engine.server.serve``)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from engine.server._net import serve
from engine.server.config import Limits, ServerConfig, default_home
from engine.server.faults import FaultConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.server",
        description="Run the video-generator-ai local engine: the NemoVideo API offline, over HTTP.",
        epilog=(
            "Faults (testing): VIDEOGEN_FAULTS='{\"silent_rate\": 1.0}'. "
            "Example: python -m engine.server --port 0"
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument(
        "--home", type=Path, default=None, help="data folder (default $VIDEOGEN_HOME or the user data dir)"
    )
    parser.add_argument(
        "--max-render-height", type=int, default=None, help="render at most this tall (tests: 90)"
    )
    parser.add_argument("--max-concurrent-renders", type=int, default=1)
    parser.add_argument(
        "--ping-interval", type=float, default=15.0, help="seconds between ': ping' keep-alives"
    )
    parser.add_argument(
        "--allow-private-urls", action="store_true", help="let URL uploads reach private addresses"
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer to this Host name (repeatable; loopback names and --host always work)",
    )
    parser.add_argument(
        "--trust-proxy",
        action="append",
        default=[],
        metavar="ADDR",
        help="believe X-Forwarded-For/-Proto from this proxy address (repeatable; default: nobody)",
    )
    parser.add_argument(
        "--read-timeout", type=float, default=30.0, help="seconds for request headers and each body read"
    )
    limits = parser.add_argument_group("limits (defaults: $VIDEOGEN_LIMITS, else the README's table)")
    for f in dataclasses.fields(Limits):
        limits.add_argument(
            "--" + f.name.replace("_", "-"), type=float if f.type == "float" else int, default=None
        )
    args = parser.parse_args(argv)
    try:
        overrides = {
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(Limits)
            if getattr(args, f.name) is not None
        }
        base_limits = Limits.from_env()
        config = ServerConfig(
            limits=dataclasses.replace(base_limits, **overrides),
            allowed_hosts=tuple(args.allow_host),
            trusted_proxies=tuple(args.trust_proxy),
            read_timeout_s=args.read_timeout,
            home=args.home or default_home(),
            faults=FaultConfig.from_env(),
            max_render_height=args.max_render_height,
            max_concurrent_renders=args.max_concurrent_renders,
            ping_interval_s=args.ping_interval,
            allow_private_urls=args.allow_private_urls,
        )
        serve(args.host, args.port, config)
    except (ValueError, OSError) as exc:
        print(f"engine.server: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
