"""deploy/nginx/protocol-kb.conf run for real: rendered onto loopback ports and a temp prefix, nginx
in the foreground as a child process group, stopped at the end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT
from tests.servers import free_port, running

TEMPLATE = ROOT / "deploy" / "nginx" / "protocol-kb.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
INSTALL_HINT = "nginx is missing: apt-get install -y --no-install-recommends nginx"
HOST = "127.0.0.1"
STARTUP_SECONDS = 20
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

# The main context Debian's /etc/nginx/nginx.conf provides in production, kept to what the test
# needs: everything under the prefix, one worker with the connection budget docs/deployment.md
# asks for, the front included inside `http {}`.
MAIN = """\
{user}worker_processes 1;
worker_rlimit_nofile 16384;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 4096; }}
http {{
    access_log {prefix}/access.log;
{temp_paths}
    include {prefix}/protocol-kb.conf;
}}
"""


@dataclass(frozen=True)
class Front:
    base: str  # http://127.0.0.1:port of nginx
    port: int
    config: str  # the rendered protocol-kb.conf
    prefix: Path

    def seconds(self, directive: str) -> float:
        """A time directive's value as configured, in seconds (`client_header_timeout 10s;`)."""
        match = re.search(rf"^\s*{directive}\s+(\d+)s;", self.config, re.MULTILINE)
        assert match, f"{directive} not set in seconds in {TEMPLATE.name}"
        return float(match.group(1))

    def value(self, pattern: str) -> str:
        """The first group of `pattern` in the rendered configuration."""
        match = re.search(pattern, self.config, re.MULTILINE)
        assert match, f"{pattern!r} not found in {TEMPLATE.name}"
        return match.group(1)

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace")[-10_000:] if path.exists() else ""


def render(template: str, *, port: int, upstream_port: int, cache_dir: Path) -> str:
    """The template with its CHANGE lines pointed at loopback and a temp cache folder."""
    replacements = [
        ("listen 80", f"listen {HOST}:{port}", 2),
        ("server 127.0.0.1:8000;", f"server {HOST}:{upstream_port};", 1),
        ("server_name kb.example.org;", f"server_name {HOST};", 1),
        ("/var/lib/nginx/protocol-kb-cache", str(cache_dir), 1),
    ]
    for old, new, count in replacements:
        assert template.count(old) == count, f"{TEMPLATE.name}: expected {old!r} {count} times"
        template = template.replace(old, new)
    return template


@contextmanager
def nginx_front(upstream: str) -> Iterator[Front]:
    """nginx with deploy/nginx/protocol-kb.conf in front of the app at `upstream` (its base URL).

    The prefix is a fresh folder under the system temp dir, readable by nginx's unprivileged
    worker user when the tests run as root (pytest's own temp folders are private to root)."""
    upstream_port = int(upstream.rsplit(":", 1)[1])
    port = free_port()
    prefix = Path(tempfile.mkdtemp(prefix="kb-nginx-"))
    try:
        prefix.chmod(0o755)
        config = render(
            TEMPLATE.read_text(), port=port, upstream_port=upstream_port, cache_dir=prefix / "cache"
        )
        (prefix / "protocol-kb.conf").write_text(config)
        temp_paths = "\n".join(
            f"    {name}_temp_path {prefix / 'temp' / name};" for name in TEMP_PATHS
        )
        # As root, the workers drop to nobody (the master keeps the logs and listening socket).
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(
            MAIN.format(user=user, prefix=prefix, temp_paths=temp_paths)
        )
        (prefix / "temp").mkdir()
        (prefix / "temp").chmod(0o755)
        front = Front(base=f"http://{HOST}:{port}", port=port, config=config, prefix=prefix)
        with _running(front):
            yield front
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


@contextmanager
def _running(front: Front) -> Iterator[None]:
    prefix = front.prefix
    command = [NGINX, "-p", str(prefix), "-e", str(prefix / "error.log")]
    command += ["-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, f"nginx -t failed:\n{checked.stderr}"
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # SIGTERM is nginx's fast shutdown; the workers share the master's process group.
    with running(process, f"{front.base}/healthz", front.error_log, STARTUP_SECONDS, "nginx"):
        yield
