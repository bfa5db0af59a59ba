"""pgolf: reproduce parameter-golf record #77 (sliding window + LoRA TTT) and test its claim."""

__version__ = "0.1.0"
