"""Model files without pickle: saving and loading any SB3 on-policy algorithm safely.

- :mod:`~agent.serialization.model_io`: :func:`save_model` and :func:`load_model`.
- :mod:`~agent.serialization.files`: :class:`PickleFreeFiles`, ``save``/``load`` methods that use them.
- :mod:`~agent.serialization.json_form`: spaces, schedules and classes as plain JSON.
- :mod:`~agent.serialization.sb3_text`: SB3's own files, read from the text beside each pickle.
- :mod:`~agent.serialization.allowed`: the classes a file may name.
- :mod:`~agent.serialization.atomic`: writes that a signal or a crash cannot leave half done.
"""

from agent.serialization.files import PickleFreeFiles
from agent.serialization.model_io import ModelLoadError, load_model, save_model

__all__ = ["ModelLoadError", "PickleFreeFiles", "load_model", "save_model"]
