"""``python -m engine.server``: run the local engine over HTTP (see ``engine.server.serve``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.server._app import serve
from engine.server.config import ServerConfig, default_home
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
    args = parser.parse_args(argv)
    try:
        config = ServerConfig(
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
