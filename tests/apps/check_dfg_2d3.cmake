# DFG 2D-3 (the inflow U_m(t) = 1.5 sin(π t / 8) from rest, t in [0, 8]) against John's reference
# values (docs/references.md §1: c_D,max 2.950921575 at t = 3.93625, c_L,max 0.47795 at
# t = 5.693125, delta_p(8) -0.1116), on a coarse mesh and step (h_near 0.01, dt 0.01: 800 steps,
# about 35 s) where the drag peak and delta_p already lie in the DFG intervals but the lift peak,
# the quantity that needs the finest step, is 18% high (0.566; the deck's settings give 0.483,
# docs/solvers.md). Checked: c_D,max in [2.93, 2.97] within 0.01 of its reference time, delta_p(8)
# in [-0.115, -0.105], and the lift peak's time within 0.02 of its reference and its value within
# [0.47, 0.60]: the times place the peaks on the inflow's sine (a constant inflow puts the drag
# peak at the impulsive start, a wrong period moves both).
#   cmake -DAPP=<tessera-cfd> -DDECK=<dfg-2d3.yaml> -DOUT=<dir> -P check_dfg_2d3.cmake
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${APP} ${DECK} --set mesh.cylinder.h_near=0.01 --set time.dt=0.01 --set output.every=0
                        --set output.dir=${OUT}
                RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tessera-cfd failed (${rc}):\n${log}")
endif()
set(number "(-?[0-9.]+)")
if(NOT log MATCHES "t in \\[0, 8\\]: c_D,max = ${number}, c_L,max = ${number}, St = nan;")
  message(FATAL_ERROR "no maxima over [0, 8] (or a Strouhal number under a time-varying inflow):\n${log}")
endif()
set(c_d ${CMAKE_MATCH_1})
set(c_l ${CMAKE_MATCH_2})
if(NOT log MATCHES "c_D,max at t = ${number}, c_L,max at t = ${number}; delta_p = ${number} at t = 8 \\(St not")
  message(FATAL_ERROR "no times of the maxima or delta_p at t = 8:\n${log}")
endif()
set(t_d ${CMAKE_MATCH_1})
set(t_l ${CMAKE_MATCH_2})
set(dp ${CMAKE_MATCH_3})
message(STATUS "c_D,max ${c_d} at t = ${t_d}, c_L,max ${c_l} at t = ${t_l}, delta_p(8) ${dp}")
# lo <= value <= hi, or fail naming the quantity.
function(require_in what value lo hi)
  if(value LESS lo OR value GREATER hi)
    message(FATAL_ERROR "${what} = ${value}, outside [${lo}, ${hi}]")
  endif()
endfunction()
require_in("c_D,max" ${c_d} 2.93 2.97)
require_in("the time of c_D,max" ${t_d} 3.92625 3.94625)
require_in("delta_p(8)" ${dp} -0.115 -0.105)
require_in("the time of c_L,max" ${t_l} 5.673125 5.713125)
require_in("c_L,max" ${c_l} 0.47 0.60)
