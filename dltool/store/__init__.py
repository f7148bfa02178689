"""The files runs and studies leave on disk: one owner per format, atomic writes, typed readers."""
