"""All run-time configuration in one place, read from environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_data_dir() -> Path:
    return Path(os.environ.get("DATA_DIR", REPO_ROOT / "var")).resolve()


def _env(name: str, default, kind: type):
    """An environment variable as `kind`, read when Settings is made (not at import)."""
    return kind(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    """Paths and tunables shared by the app, the CLIs and the workers."""

    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    lease_minutes: int = field(default_factory=lambda: _env("LEASE_MINUTES", 30, int))
    # a page view holds its item this long (renewed on each rerun) until the first save starts the lease
    view_lease_minutes: float = field(default_factory=lambda: _env("VIEW_LEASE_MINUTES", 2, float))
    # a geo raster with more annotations than this is imported as several work units (one lease each)
    geo_unit_max_instances: int = field(default_factory=lambda: _env("GEO_UNIT_MAX_INSTANCES", 300, int))
    sqlite_busy_timeout_ms: int = field(default_factory=lambda: _env("SQLITE_BUSY_TIMEOUT_MS", 15000, int))
    demo_seed: int = field(default_factory=lambda: _env("DEMO_SEED", 7, int))
    # share of each project's verified items kept for evaluation and never trained on
    holdout_share: float = field(default_factory=lambda: _env("HOLDOUT_SHARE", 0.2, float))
    # GDAL's raster block cache (GDAL's own default is 5 % of RAM): windowed reads stay within it
    gdal_cache_mb: int = field(default_factory=lambda: _env("GDAL_CACHE_MB", 128, int))
    # packages defining more model families (training/families.py), comma-separated
    model_families: tuple[str, ...] = field(default_factory=lambda: tuple(
        name.strip() for name in os.environ.get("MODEL_FAMILIES", "").split(",") if name.strip()))
    # a login token stops working after this long without a page view
    session_idle_minutes: int = field(default_factory=lambda: _env("SESSION_IDLE_MINUTES", 480, int))
    # signs login tokens; empty: a random key kept in <data_dir>/secret.key, made on first use
    session_secret: str = field(default_factory=lambda: os.environ.get("SESSION_SECRET", ""))
    # login throttling: this many failures within the window refuses further tries for the window
    login_max_failures: int = field(default_factory=lambda: _env("LOGIN_MAX_FAILURES", 5, int))
    login_window_minutes: float = field(default_factory=lambda: _env("LOGIN_WINDOW_MINUTES", 15, float))
    # a worker records that it is alive this often while its job runs
    job_heartbeat_seconds: float = field(default_factory=lambda: _env("JOB_HEARTBEAT_SECONDS", 2, float))
    # a running job whose worker has not beaten for this long is taken to be dead (a few missed beats)
    job_stale_seconds: float = field(default_factory=lambda: _env("JOB_STALE_SECONDS", 8, float))
    # ...unless the worker runs on this host and its process is alive: then only after this long
    # (its beats can wait on a long SQLite write; a process that stays silent this long is hung)
    job_hung_seconds: float = field(default_factory=lambda: _env("JOB_HUNG_SECONDS", 120, float))
    # runs of a job (claims); a job whose worker died this many times is failed, not re-queued
    job_max_attempts: int = field(default_factory=lambda: _env("JOB_MAX_ATTEMPTS", 3, int))
    # a train job saves a resumable state (weights, optimiser, RNG, step) this often
    job_checkpoint_minutes: float = field(default_factory=lambda: _env("JOB_CHECKPOINT_MINUTES", 5, float))
    # a plain `train` run (not a job) keeps and resumes from a state at this path when set
    train_resume_state: str = field(default_factory=lambda: os.environ.get("TRAIN_RESUME_STATE", ""))

    def __post_init__(self) -> None:
        if not self.database_url:
            url = os.environ.get("DATABASE_URL") or f"sqlite:///{self.data_dir / 'annotation.db'}"
            object.__setattr__(self, "database_url", url)

    @property
    def demo_dir(self) -> Path:
        """Where the demo workspace's generated files live."""
        return self.data_dir / "demo"

    @property
    def cache_dir(self) -> Path:
        """Server-side cuts of media and rendered imagery (safe to delete)."""
        return self.data_dir / "cache"


def inside_data_dir(path: str | Path) -> Path:
    """`path` resolved; ValueError unless it lies inside the data folder (no `..` escapes)."""
    root = get_settings().data_dir.resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root):
        raise ValueError(f"{Path(path).name or path}: files are written only inside the data folder")
    return resolved


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment read once)."""
    return Settings()
