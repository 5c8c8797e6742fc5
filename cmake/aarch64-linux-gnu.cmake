# aarch64-linux-gnu.cmake — cross-compiling deepedge for aarch64 (the Jetson boards) on a
# Debian amd64 host (scripts/cross-aarch64.sh, `make cross-aarch64`):
#   compilers  Debian's cross toolchain (crossbuild-essential-arm64: aarch64-linux-gnu-gcc)
#   libraries  Debian multiarch :arm64 packages, installed next to the host's: libraries in
#              /usr/lib/aarch64-linux-gnu, headers in /usr/include (shared by both
#              architectures) and /usr/include/aarch64-linux-gnu
#   overlay    DE_AARCH64_OVERLAY (optional): a directory holding arm64 packages unpacked
#              outside dpkg, for those Debian cannot install next to the host's (the script
#              explains which and why); searched after the cross libc, before /
#   tests      every test binary runs under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), so
#              ctest works unchanged
# Use: cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DDE_CUDA=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(DE_CROSS_TRIPLE aarch64-linux-gnu)
set(DE_CROSS_LIBDIR /usr/lib/${DE_CROSS_TRIPLE})

set(CMAKE_C_COMPILER ${DE_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${DE_CROSS_TRIPLE}-g++)
# Debian multiarch: find_library and find_path look in lib/aarch64-linux-gnu and
# include/aarch64-linux-gnu (never in the host's x86_64-linux-gnu ones).
set(CMAKE_LIBRARY_ARCHITECTURE ${DE_CROSS_TRIPLE})

# try_compile projects (FindMPI, FindOpenMP, ...) read this file again: they get the overlay too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES DE_AARCH64_OVERLAY)
set(DE_OVERLAY_LIBDIR "")
if(DE_AARCH64_OVERLAY)
  set(DE_OVERLAY_LIBDIR ${DE_AARCH64_OVERLAY}${DE_CROSS_LIBDIR})
endif()

# The cross libc (libc6-dev-arm64-cross) lives under /usr/aarch64-linux-gnu, everything else
# under / as multiarch. Programs (gnuplot, mpiexec, pkg-config) are the host's: the target's
# cannot run here, and the paths compiled in (DE_MPIEXEC) are the same on a Debian board.
set(CMAKE_FIND_ROOT_PATH /usr/${DE_CROSS_TRIPLE} ${DE_AARCH64_OVERLAY} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the arm64 .pc files only (libconfig, cunit, libcjson, openssl).
set(ENV{PKG_CONFIG_LIBDIR} "${DE_CROSS_LIBDIR}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# MPI: the host's mpicc wrapper would describe the host's (x86-64) OpenMPI, and no arm64
# wrapper runs here, so FindMPI gets Debian's arm64 OpenMPI (libopenmpi-dev's paths) directly.
set(MPI_SKIP_COMPILER_WRAPPER TRUE)
set(MPI_ASSUME_NO_BUILTIN_MPI TRUE)
set(_de_mpi ${DE_CROSS_LIBDIR}/openmpi)
if(DE_OVERLAY_LIBDIR AND EXISTS ${DE_OVERLAY_LIBDIR}/openmpi/include/mpi.h)
  set(_de_mpi ${DE_OVERLAY_LIBDIR}/openmpi)
endif()
set(MPI_C_HEADER_DIR ${_de_mpi}/include CACHE PATH "arm64 OpenMPI headers")
set(MPI_C_LIB_NAMES mpi CACHE STRING "arm64 OpenMPI libraries")
set(MPI_mpi_LIBRARY ${_de_mpi}/lib/libmpi.so CACHE FILEPATH "arm64 OpenMPI library")

# ctest (and try_run) run the target's binaries through qemu-user, with -L the root where qemu
# looks for the dynamic loader first. The loader must come from the same glibc build as the
# libc.so.6 it then loads, which is the multiarch libc6:arm64 (/lib/aarch64-linux-gnu, pulled
# in by the :arm64 -dev packages): so the root is / whenever libc6:arm64 is installed. Only
# without it is the cross toolchain's copy (/usr/aarch64-linux-gnu, libc6-arm64-cross) used.
# Measured: -L /usr/aarch64-linux-gnu with libc6:arm64 installed pairs the cross ld.so
# (2.36-8cross1) with libc6:arm64's libc (2.36-9+deb12u14), and the first pthread_create
# (OpenBLAS starting its threads in a constructor) spins forever in the stack cache.
# Libraries in the overlay are found at link time through -rpath-link (what they need in
# turn, too) and at run time through the guest's LD_LIBRARY_PATH (their own RUNPATH points
# at /usr, where they are not).
find_program(DE_QEMU_AARCH64 qemu-aarch64 REQUIRED)
if(EXISTS /lib/ld-linux-aarch64.so.1 AND EXISTS ${DE_CROSS_LIBDIR}/libc.so.6)
  set(DE_QEMU_ROOT /)
else()
  set(DE_QEMU_ROOT /usr/${DE_CROSS_TRIPLE})
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${DE_QEMU_AARCH64} -L ${DE_QEMU_ROOT})
if(DE_OVERLAY_LIBDIR)
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${DE_OVERLAY_LIBDIR}")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${DE_OVERLAY_LIBDIR}")
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR -E LD_LIBRARY_PATH=${DE_OVERLAY_LIBDIR})
endif()
