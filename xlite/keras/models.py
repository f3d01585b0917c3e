"""tf.keras.models: Model, Sequential, model_from_json/config, load_model/save_model, clone_model."""
from __future__ import annotations

from xlite.keras.engine.model_config import model_from_config, model_from_json
from xlite.keras.engine.saving import load_model, save_model
from xlite.keras.engine.sequential import Sequential
from xlite.keras.engine.training import Model

__all__ = ["Model", "Sequential", "model_from_config", "model_from_json", "load_model", "save_model"]
