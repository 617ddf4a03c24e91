"""Settings: the YAML configuration file, plus a few environment variables, as typed immutable values.

``settings`` holds the sections (pydantic models, one per section), ``values`` the domain types they share,
``loading`` reads the file and the environment and words every problem, ``files`` reads and checks the disk.
"""

from storage.disk import check_crypto_store, check_storage, crypto_store_file
from bot.config.loading import ENVIRONMENT, ConfigError, config_schema, default_config, load_config
from bot.config.settings import (AssemblySettings, Config, MatrixSettings, MattermostSettings, OpsSettings,
                                 RegisterSettings, StorageSettings)
from bot.config.values import IN_MEMORY, MAX_ID_LENGTH

__all__ = ["ENVIRONMENT", "IN_MEMORY", "MAX_ID_LENGTH", "AssemblySettings", "Config", "ConfigError", "config_schema",
           "MatrixSettings", "MattermostSettings", "OpsSettings", "RegisterSettings", "StorageSettings", "check_crypto_store",
           "check_storage", "crypto_store_file", "default_config", "load_config"]
