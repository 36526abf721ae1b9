/*
 * How the kernel's page cache holds a file, and how fast a re-read from it is: maps the file,
 * touches every page, finds each page's frame (/proc/self/pagemap) and whether it heads or
 * continues a folio (/proc/kpageflags, root only), then reads the file NREADS times with
 * 1 MiB read()s. Prints the folio sizes, the share of pages physically next to the one
 * before, and each re-read in MiB/s (wall clock, and per second of this thread's CPU time,
 * which other load on the machine barely moves).
 *
 *   cc -O2 -o pagecache pagecache.c && ./pagecache FILE [NREADS]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double seconds(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [NREADS]\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return 1;
    }
    size_t len = st.st_size, pages = len / 4096;
    volatile unsigned char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    unsigned long sum = 0;
    for (size_t i = 0; i < pages; i++) {
        sum += p[i * 4096];
    }
    int pm = open("/proc/self/pagemap", O_RDONLY), kf = open("/proc/kpageflags", O_RDONLY);
    long hist[24] = {0}, run = 0, contiguous = 0, unmapped = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < pages && pm >= 0 && kf >= 0; i++) {
        uint64_t e, flags;
        pread(pm, &e, 8, ((uintptr_t) p / 4096 + i) * 8);
        if (!(e >> 63)) {
            unmapped++;
            continue;
        }
        uint64_t pfn = e & ((1ULL << 55) - 1);
        pread(kf, &flags, 8, pfn * 8);
        contiguous += pfn == prev + 1;
        prev = pfn;
        if ((flags >> 16) & 1) { /* KPF_COMPOUND_TAIL: same folio as the page before */
            run++;
            continue;
        }
        if (run) {
            int o = 0;
            while ((1L << o) < run) o++;
            hist[o]++;
        }
        run = 1;
    }
    if (run) {
        int o = 0;
        while ((1L << o) < run) o++;
        hist[o]++;
    }
    printf("%s: %zu pages (%ld not resident); folios:", argv[1], pages, unmapped);
    for (int o = 0; o < 24; o++) {
        if (hist[o]) printf(" %ldx%ldK", hist[o], 4L << o);
    }
    printf("; %.0f%% of pages physically follow the previous one\n", 100.0 * contiguous / (pages ? pages : 1));
    munmap((void *) p, len);
    int reads = argc > 2 ? atoi(argv[2]) : 3;
    char *buf = aligned_alloc(4096, 1 << 20);
    for (int r = 0; r < reads; r++) {
        int f = open(argv[1], O_RDONLY);
        double w = seconds(CLOCK_MONOTONIC), c = seconds(CLOCK_THREAD_CPUTIME_ID);
        long n = 0;
        ssize_t k;
        while ((k = read(f, buf, 1 << 20)) > 0) n += k;
        w = seconds(CLOCK_MONOTONIC) - w;
        c = seconds(CLOCK_THREAD_CPUTIME_ID) - c;
        close(f);
        printf("  re-read %d: %.0f MiB/s (%.0f MiB per CPU second)\n", r + 1, n / w / 1048576, n / c / 1048576);
    }
    return (int) (sum & 0);
}
