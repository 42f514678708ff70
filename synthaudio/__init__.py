"""synthaudio: does synthetic audio from generative foundation models help your recognition model, and how much?"""

__version__ = "0.1.0"
