# aarch64-linux-gnu.cmake — cross-compiling deepedge for aarch64 (the Jetson boards) on a
# Debian amd64 host (scripts/cross-aarch64.sh, `make cross-aarch64`):
#   compilers  Debian's cross toolchain (crossbuild-essential-arm64: aarch64-linux-gnu-gcc)
#   libraries  Debian multiarch :arm64 packages, installed next to the host's under
#              /usr/lib/aarch64-linux-gnu (headers in /usr/include, shared by both)
#   tests      every test binary runs under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), so
#              ctest works unchanged
# Use: cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DDE_CUDA=OFF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(DE_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${DE_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${DE_CROSS_TRIPLE}-g++)
# Debian multiarch: find_library looks in /usr/lib/aarch64-linux-gnu (and never in the
# host's /usr/lib/x86_64-linux-gnu).
set(CMAKE_LIBRARY_ARCHITECTURE ${DE_CROSS_TRIPLE})

# The cross libc (libc6-dev-arm64-cross) lives under /usr/aarch64-linux-gnu; everything else
# under / as multiarch. Programs (gnuplot, mpiexec, pkg-config) are the host's: the target's
# cannot run here, and the paths compiled in (DE_MPIEXEC) are the same on a Debian board.
set(CMAKE_FIND_ROOT_PATH /usr/${DE_CROSS_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the arm64 .pc files only (libconfig, cunit, libcjson, gsl, ...).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${DE_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# MPI: the host's mpicc wrapper would report the host's (x86-64) OpenMPI, and there is no
# arm64 wrapper that runs here: FindMPI is given Debian's arm64 OpenMPI directly.
set(MPI_SKIP_COMPILER_WRAPPER TRUE)
set(MPI_ASSUME_NO_BUILTIN_MPI TRUE)
set(MPI_C_HEADER_DIR /usr/lib/${DE_CROSS_TRIPLE}/openmpi/include CACHE PATH "arm64 OpenMPI headers")
set(MPI_C_LIB_NAMES mpi CACHE STRING "arm64 OpenMPI libraries")
set(MPI_mpi_LIBRARY /usr/lib/${DE_CROSS_TRIPLE}/libmpi.so CACHE FILEPATH "arm64 OpenMPI library")

# ctest (and try_run) run the target's binaries through qemu-user; -L makes qemu resolve
# the dynamic loader and the cross libc under /usr/aarch64-linux-gnu.
find_program(DE_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${DE_QEMU_AARCH64} -L /usr/${DE_CROSS_TRIPLE})
