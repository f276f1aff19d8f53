"""The commons' own vocabulary: notes now; designs, versions, forks, files and licences next."""
