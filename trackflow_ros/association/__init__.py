"""TrackFlow: the association cost as the negative log-likelihood of a conditional
normalizing flow (arXiv 2308.11513), with its features, model, checkpoint and training.

torch and nflows are imported only here, so the tracking core stays light.
"""
