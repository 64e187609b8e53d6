"""Where the embedded platform keeps everything under its data dir. ``down`` never deletes any of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".up.lock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    @property
    def mlflow(self) -> Path:
        return self.root / "mlflow"

    @property
    def dvc_remote(self) -> Path:
        return self.root / "dvc-remote"

    @property
    def label_studio(self) -> Path:
        return self.root / "label-studio"

    @property
    def prometheus(self) -> Path:
        return self.root / "prometheus"

    @property
    def pushgateway(self) -> Path:
        return self.root / "pushgateway"

    @property
    def git(self) -> Path:
        """Bare repositories, one per project: ``git/<project>.git``."""
        return self.root / "git"

    def repo(self, project: str) -> Path:
        return self.git / f"{project}.git"

    @property
    def ci(self) -> Path:
        return self.root / "ci"

    @property
    def package_index(self) -> Path:
        """The static simple index (PEP 503) ``shipyard up`` serves: the client wheel projects install."""
        return self.root / "package-index"

    @property
    def tools(self) -> Path:
        """Tool environments created on first use (the Label Studio venv)."""
        return self.root / "tools"

    @property
    def secret_files(self) -> list[Path]:
        """Files holding secrets or whole databases: 0600 (``up`` tightens them every start)."""
        return [
            self.state_file,
            self.mlflow / "mlflow.db",
            self.label_studio / "credentials.json",
            self.label_studio / "data" / "label_studio.sqlite3",
            self.pushgateway / "metrics.db",
        ]

    def ensure(self) -> DataLayout:
        for path in (
            self.root,
            self.logs,
            self.mlflow,
            self.dvc_remote,
            self.git,
            self.ci,
            self.package_index,
        ):
            path.mkdir(parents=True, exist_ok=True)
        self.secure()
        return self

    def secure(self) -> None:
        """The data dir 0700 (only its user gets in) and every secret file in it 0600."""
        self.root.chmod(0o700)
        for path in self.secret_files:
            try:
                path.chmod(0o600)
            except FileNotFoundError:
                pass
