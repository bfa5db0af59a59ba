"""One module per `python -m pgolf` verb: `add_arguments(parser)` and `main(args)`."""
