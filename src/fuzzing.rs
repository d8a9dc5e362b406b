//! Entry points for the fuzz targets in `fuzz/`: each target is one call here.
