package models

// partSuffix marks a file that is still being downloaded.
const partSuffix = ".part"
