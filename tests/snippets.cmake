# Checks that every snippet of SOURCE (the lines between two "// [name]" marker lines) appears
# verbatim in the Markdown file DOC (its indentation removed), so that the docs show the code the
# test suite compiles. Usage: cmake -DSOURCE=main.cpp -DDOC=docs/tutorial.md -P snippets.cmake
file(READ "${SOURCE}" source)
file(READ "${DOC}" doc)
string(REGEX MATCHALL "// \\[[a-z-]+\\]\n" markers "${source}")
list(REMOVE_DUPLICATES markers)
if(NOT markers)
  message(FATAL_ERROR "${SOURCE}: no snippet markers found")
endif()
foreach(marker IN LISTS markers)
  string(FIND "${source}" "${marker}" begin)
  string(LENGTH "${marker}" length)
  math(EXPR begin "${begin} + ${length}")
  string(SUBSTRING "${source}" ${begin} -1 rest)
  string(FIND "${rest}" "${marker}" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${SOURCE}: snippet ${marker} is not closed")
  endif()
  string(SUBSTRING "${rest}" 0 ${end} snippet)
  string(REGEX REPLACE "[ ]+$" "" snippet "${snippet}")  # the closing marker's indentation
  # Remove the indentation of the snippet's first line from all its lines.
  string(REGEX MATCH "^ +" indent "${snippet}")
  if(indent)
    string(REGEX REPLACE "^${indent}" "" snippet "${snippet}")
    string(REPLACE "\n${indent}" "\n" snippet "${snippet}")
  endif()
  string(FIND "${doc}" "${snippet}" at)
  if(at EQUAL -1)
    string(STRIP "${marker}" name)
    message(FATAL_ERROR "${DOC} does not show the snippet ${name} of ${SOURCE} verbatim:\n"
                        "${snippet}")
  endif()
endforeach()
