# Runs the consumer programs in the build folder DIR: the VAE program, the ONNX export's and the
# data-parallel one (under mpiexec, 2 processes) when they were built, then (with PAIR=ON) the
# DCGAN trainer that exports its generator and the sampler that loads it, whose samples must equal
# the trainer's byte for byte. Usage: cmake -DDIR=... [-DPAIR=ON] -P run.cmake
function(run program)
  execute_process(COMMAND "${DIR}/${program}" WORKING_DIRECTORY "${DIR}" RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${program} failed (${result})")
  endif()
endfunction()
run(aigc_consumer)
if(EXISTS "${DIR}/aigc_consumer_onnx")
  run(aigc_consumer_onnx)
endif()
if(EXISTS "${DIR}/aigc_consumer_mpi")
  file(READ "${DIR}/mpiexec.txt" mpiexec)
  execute_process(COMMAND "${mpiexec}" --allow-run-as-root --oversubscribe --bind-to none -np 2
                          "${DIR}/aigc_consumer_mpi"
                  WORKING_DIRECTORY "${DIR}" RESULT_VARIABLE result TIMEOUT 120)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "aigc_consumer_mpi on 2 processes failed (${result})")
  endif()
endif()
if(PAIR)
  file(REMOVE "${DIR}/generator.aigc" "${DIR}/sampler-samples.f32" "${DIR}/sampler-samples.png")
  run(aigc_consumer_dcgan)
  run(aigc_consumer_sample)
  foreach(file samples.f32 samples.png)
    execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${DIR}/trainer-${file}"
                            "${DIR}/sampler-${file}" RESULT_VARIABLE differ)
    if(NOT differ EQUAL 0)
      message(FATAL_ERROR "sampler-${file} differs from trainer-${file}")
    endif()
  endforeach()
  message(STATUS "the loaded generator's samples equal the trainer's, byte for byte")
endif()
