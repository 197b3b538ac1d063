# Installs aigc from BUILD_DIR into a fresh PREFIX and checks that the package's files are there.
# Usage: cmake -DBUILD_DIR=... -DPREFIX=... -P install.cmake
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                OUTPUT_QUIET RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${result})")
endif()
foreach(file include/aigc/aigc.hpp include/aigc/version.hpp include/aigc/core/tensor.hpp
             share/cmake/aigc/aigcConfig.cmake share/cmake/aigc/aigcConfigVersion.cmake
             share/cmake/aigc/aigcTargets.cmake share/pkgconfig/aigc.pc)
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "cmake --install did not write ${PREFIX}/${file}")
  endif()
endforeach()
file(GLOB_RECURSE stray RELATIVE "${PREFIX}/include" "${PREFIX}/include/*.in")
if(stray)
  message(FATAL_ERROR "templates installed: ${stray}")
endif()
