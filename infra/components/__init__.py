"""One ComponentResource per platform part; each takes one typed args dataclass."""
