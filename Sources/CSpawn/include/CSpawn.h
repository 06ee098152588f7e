#ifndef SPARROW_CSPAWN_H
#define SPARROW_CSPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` through posix_spawn, in `directory` (NULL: this process's), its standard
/// input, output and error on the descriptors given, every other descriptor closed, every signal at its default
/// and none blocked. Returns 0, or the error number.
int sparrow_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *directory,
                  int input, int output, int error);

#endif
