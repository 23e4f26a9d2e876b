"""Background reflection: the executors behind :mod:`langmem.reflection`."""
