"""Names the registry writes and reads: the model, the experiment, the aliases, the tags."""

MODEL_NAME = "docsearch-index"
EXPERIMENT = "docsearch"
CHAMPION = "champion"  # the alias of the version that serves
CHALLENGER = "challenger"  # the alias of the newest version the gate did not promote
MODEL_DIR = "index_model"  # where the pyfunc model sits among the run's artifacts
HISTORY_TAG = "docsearch.champion_history"  # registered-model tag: versions promoted, in order
INDEX_VERSION_TAG = "docsearch.index_version"  # run and version tags: the index folder's id,
INDEX_PATH_TAG = "docsearch.index_path"  # its path,
INDEX_ROOT_TAG = "docsearch.index_root"  # and the IndexStore it belongs to
