/*
 * malloc_count.c - LD_PRELOAD shim that counts heap allocations.
 *
 *   gcc -O2 -shared -fPIC -o malloc_count.so malloc_count.c
 *   LD_PRELOAD=./malloc_count.so ./program
 *
 * Every malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign and
 * valloc call bumps one process-wide counter (relaxed atomic) and forwards to
 * glibc's own __libc_* entry points; free is passed straight through.
 * Programs find the counter with dlsym(RTLD_DEFAULT, "zbench_allocations").
 *
 * No initialisation and no dlsym: the __libc_* functions are ordinary
 * exported glibc symbols, so this is safe from the very first allocation
 * (including the ones the dynamic loader and libc make before main).
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#define EXPORT __attribute__ ((visibility ("default")))

extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t count, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void *__libc_memalign (size_t alignment, size_t size);
extern void __libc_free (void *ptr);

static unsigned long long allocations;

static inline void count_one (void)
{
    __atomic_fetch_add (&allocations, 1, __ATOMIC_RELAXED);
}

EXPORT unsigned long long zbench_allocations (void)
{
    return __atomic_load_n (&allocations, __ATOMIC_RELAXED);
}

EXPORT void *malloc (size_t size)
{
    count_one ();
    return __libc_malloc (size);
}

EXPORT void *calloc (size_t count, size_t size)
{
    count_one ();
    return __libc_calloc (count, size);
}

EXPORT void *realloc (void *ptr, size_t size)
{
    count_one ();
    return __libc_realloc (ptr, size);
}

EXPORT void free (void *ptr)
{
    __libc_free (ptr);
}

EXPORT int posix_memalign (void **memptr, size_t alignment, size_t size)
{
    count_one ();
    /* A power of two and a multiple of sizeof (void *). */
    if (alignment == 0 || (alignment & (alignment - 1)) != 0
        || alignment % sizeof (void *) != 0)
        return EINVAL;
    int saved = errno; /* posix_memalign must not change errno */
    void *p = __libc_memalign (alignment, size);
    if (!p) {
        errno = saved;
        return ENOMEM;
    }
    *memptr = p;
    return 0;
}

EXPORT void *aligned_alloc (size_t alignment, size_t size)
{
    count_one ();
    return __libc_memalign (alignment, size);
}

EXPORT void *memalign (size_t alignment, size_t size)
{
    count_one ();
    return __libc_memalign (alignment, size);
}

EXPORT void *valloc (size_t size)
{
    count_one ();
    long page = sysconf (_SC_PAGESIZE);
    return __libc_memalign (page > 0 ? (size_t) page : 4096, size);
}
