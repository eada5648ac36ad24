"""Built-in loggers; each is a plugin on the ``on_train_event`` hook like any third party's."""
