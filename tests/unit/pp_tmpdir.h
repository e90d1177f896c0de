/*
 * A unit test's temporary directory removed with everything in it: depth first, symbolic links
 * removed rather than followed, and no shell (the tests used system("rm -rf '...'")).
 */
#ifndef PP_TMPDIR_H
#define PP_TMPDIR_H

#include <ftw.h>
#include <stdio.h>

static inline int pp_test_remove_entry(const char *path, const struct stat *st, int flag,
                                       struct FTW *ftw)
{
    return remove(path);
}

/* 0 when dir and everything below it are gone. */
static inline int pp_test_remove_tree(const char *dir)
{
    return nftw(dir, pp_test_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#endif
