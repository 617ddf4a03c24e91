"""Settings: the YAML configuration file and a few environment variables, as typed immutable values: ``settings``
holds the sections, ``values`` the domain types they share, ``loading`` reads and words every problem."""

from storage.disk import check_storage
from bot.config.loading import ENVIRONMENT, ConfigError, config_schema, default_config, load_config
from bot.config.settings import (AssemblySettings, Config, MatrixSettings, MattermostSettings, OpsSettings,
                                 RegisterSettings, StorageSettings)
from bot.config.values import IN_MEMORY, MAX_ID_LENGTH

__all__ = ["ENVIRONMENT", "IN_MEMORY", "MAX_ID_LENGTH", "AssemblySettings", "Config", "ConfigError", "MatrixSettings",
           "MattermostSettings", "OpsSettings", "RegisterSettings", "StorageSettings", "check_storage", "config_schema",
           "default_config", "load_config"]
