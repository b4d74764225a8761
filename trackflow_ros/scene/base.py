"""Encoder names and errors, apart from the encoder so that the CLI and the clusters file can use
them without importing torch and open_clip (a bad argument fails in a second, not after the
import)."""

#: small, and the model with the most public CLIP checkpoints (OpenAI, LAION) to load
DEFAULT_MODEL = "ViT-B-32"
#: the checkpoint value that asks for an untrained, seeded encoder
RANDOM_INIT = "random"


class EncoderError(ValueError):
    """The encoder cannot be built: unknown model, or an unusable checkpoint (named)."""
