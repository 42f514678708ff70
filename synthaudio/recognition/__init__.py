"""Recognition: features cached by content, training data, training runs with validation-based selection,
evaluation (clean and with noise at an SNR), and metrics.

  data           manifests -> (cached) model inputs; noise augmentation
  feature_cache  content-addressed waveform and feature caches
  training       train_run: class-weighted training, selection and LR schedule on validation data
  runs           the run folder (config.json, model.safetensors, metrics.json)
  evaluation     evaluate_run, score_clips
  metrics        accuracy, UAR, macro-F1, top-5, per-class precision/recall, confusion
"""
