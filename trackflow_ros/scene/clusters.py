"""k-means scene clusters over frame embeddings, and their ``clusters.npz`` file.

TrackFlow's flow has one learned scene embedding per cluster (16; see
``association/model.py``), so k is at most 16. The file records which encoder the centres belong
to (model name, embedding size and the weights' identity: the checkpoint's sha256, or the seed
of a random initialisation), so a run-time encoder with other weights is refused instead of
silently producing meaningless indices.

File format (``numpy.savez``, no pickled objects; version 1):

==================  ===========  ==========================================================
key                 dtype        meaning
==================  ===========  ==========================================================
``format_version``  int64 ()     1
``centres``         float32      (k, D) k-means centres, in the embedding space
``model``           str ()       open_clip model name
``dim``             int64 ()     D, the embedding size
``encoder_id``      str ()       ``sha256:<hex>`` of the checkpoint or ``random-init:seed=S``
``checkpoint``      str ()       the checkpoint path as given at fit time, or ``random``
``n_frames``        int64 ()     frames the centres were fitted on
==================  ===========  ==========================================================
"""

from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
#: scene clusters of the paper, and rows of ``TrackFlowModel.scene``
N_CLUSTERS = 16
_KEYS = ("format_version", "centres", "model", "dim", "encoder_id", "checkpoint", "n_frames")


class ClustersError(ValueError):
    """A clusters file cannot be used, or clusters cannot be fitted; the message says why and
    names the file where there is one."""


@dataclass(frozen=True)
class SceneClusters:
    centres: np.ndarray  # (k, D) float32
    model: str
    encoder_id: str
    checkpoint: str
    n_frames: int

    @property
    def k(self) -> int:
        return int(self.centres.shape[0])

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])

    def assign(self, embeddings: np.ndarray) -> np.ndarray:
        """Index of the nearest centre (Euclidean, as k-means itself assigns) per row."""
        x = np.asarray(embeddings, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected embeddings of shape (N, {self.dim}), got {x.shape}")
        d2 = (
            (x * x).sum(1, keepdims=True)
            - 2.0 * x @ self.centres.T
            + (self.centres * self.centres).sum(1)[None, :]
        )
        return d2.argmin(1)

    def save(self, path: str | Path) -> None:
        """Write atomically (a temporary file renamed into place): an existing file is only
        replaced by a complete one."""
        path = Path(path)
        if not path.parent.is_dir():
            raise ClustersError(f"{path}: folder {path.parent} does not exist")
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:  # a file object: savez would append .npz to a name
            np.savez(
                f,
                format_version=np.int64(FORMAT_VERSION),
                centres=self.centres.astype(np.float32),
                model=np.str_(self.model),
                dim=np.int64(self.dim),
                encoder_id=np.str_(self.encoder_id),
                checkpoint=np.str_(self.checkpoint),
                n_frames=np.int64(self.n_frames),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> SceneClusters:
        """Read and validate ``path``; any problem is a :class:`ClustersError` naming it."""
        path = Path(path)
        if not path.is_file():
            raise ClustersError(f"{path}: scene clusters file not found")
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [k for k in _KEYS if k not in npz.files]
                if missing:
                    raise ClustersError(
                        f"{path}: not a scene clusters file (missing {', '.join(missing)})"
                    )
                data = {k: npz[k] for k in _KEYS}
        except ClustersError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
            raise ClustersError(f"{path}: not a readable scene clusters file ({err})") from err
        version = int(data["format_version"])
        if version != FORMAT_VERSION:
            raise ClustersError(
                f"{path}: clusters format version {version}, this code reads {FORMAT_VERSION}"
            )
        centres = data["centres"]
        if centres.ndim != 2 or not np.issubdtype(centres.dtype, np.floating):
            raise ClustersError(
                f"{path}: centres must be a float (k, D) array, got {centres.shape}"
            )
        if not 1 <= centres.shape[0] <= N_CLUSTERS:
            raise ClustersError(f"{path}: {centres.shape[0]} clusters, expected 1..{N_CLUSTERS}")
        if int(data["dim"]) != centres.shape[1]:
            raise ClustersError(
                f"{path}: dim {int(data['dim'])} disagrees with centres of size {centres.shape[1]}"
            )
        if not np.isfinite(centres).all():
            raise ClustersError(f"{path}: centres contain NaN or inf")
        model = str(data["model"])
        if not model:
            raise ClustersError(f"{path}: empty model name")
        return cls(
            centres=centres.astype(np.float32),
            model=model,
            encoder_id=str(data["encoder_id"]),
            checkpoint=str(data["checkpoint"]),
            n_frames=int(data["n_frames"]),
        )


def fit_clusters(
    embeddings: np.ndarray,
    model: str,
    encoder_id: str,
    checkpoint: str,
    k: int = N_CLUSTERS,
    seed: int = 0,
) -> SceneClusters:
    """scikit-learn k-means (seeded, 10 restarts) over ``(N, D)`` embeddings.

    Fewer embeddings, or fewer distinct embeddings, than ``k`` is an error rather than a quietly
    smaller k: the TrackFlow model expects a fixed cluster count, and a caller that truly wants
    fewer clusters says so with ``k``.
    """
    from sklearn.cluster import KMeans  # scikit-learn only where clusters are fitted
    from sklearn.exceptions import ConvergenceWarning

    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ClustersError(f"expected (N, D) embeddings with N > 0, got shape {x.shape}")
    if not 1 <= k <= N_CLUSTERS:
        raise ClustersError(f"k = {k}: scene clusters must number 1..{N_CLUSTERS}")
    if len(x) < k:
        raise ClustersError(f"{len(x)} frames cannot make {k} clusters: need at least {k} frames")
    distinct = len(np.unique(x, axis=0))
    if distinct < k:
        raise ClustersError(f"only {distinct} distinct frame embeddings, fewer than {k} clusters")
    with warnings.catch_warnings():
        # a degenerate fit (fewer distinct clusters than k) must not pass quietly
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
        except ConvergenceWarning as err:
            raise ClustersError(f"k-means could not form {k} clusters: {err}") from err
    return SceneClusters(
        centres=km.cluster_centers_.astype(np.float32),
        model=model,
        encoder_id=encoder_id,
        checkpoint=checkpoint,
        n_frames=len(x),
    )
