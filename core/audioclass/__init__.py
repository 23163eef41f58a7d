"""Audio classifier of VGG-Sound curation (thesis chapter 4): ResNet18 on a log spectrogram, metrics, filters."""
