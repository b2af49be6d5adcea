// Temporary files and directories that become a target by rename, named so that a later run can tell a
// stale one (its writer killed) from a live one, and registered so that a signal handler can remove them.
//
// A temporary for target DIR/NAME is DIR/.NAME.<pid>-<random>.logclf-tmp. Its writer holds an flock(2)
// on it for its whole life; the kernel drops the lock when the writer dies, even by kill -9. A later run
// that writes the same target removes each temporary of NAME whose lock is free and whose pid is gone (both:
// the lock alone would race with a writer between creating and locking, the pid alone would be fooled by a
// pid reused, or one from another pid namespace).
#pragma once

#include <string>

namespace logclf::io {

struct TempPath {
  std::string path;
  int fd = -1;  // open and flock'ed: a file's for writing, a directory's read-only
};

// Creates the temporary file (mode 0666 before the umask) or directory (0700) for `target`, locked.
// Removes the stale temporaries of `target` first. Throws Error naming the target when it cannot.
TempPath create_temp_file(const std::string& target);
TempPath create_temp_directory(const std::string& target);

// Removes the temporaries of `target` whose writer is gone (see above). Never throws.
void remove_stale_temps(const std::string& target);

// The registry the signal handler reads (logclf::remove_pending_temp_files in logclf/io.h): 32 fixed
// slots of paths shorter than 4096 bytes; a path that does not fit is still removed by its owner's
// destructor. A registered directory is removed with the files directly in it. Returns the slot, or -1.
int register_pending(const std::string& path, bool directory);
void unregister_pending(int slot);

}  // namespace logclf::io
