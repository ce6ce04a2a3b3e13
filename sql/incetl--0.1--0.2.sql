/* incetl--0.1--0.2.sql -- ALTER EXTENSION incetl UPDATE from 0.1 to 0.2 */

\echo Use "ALTER EXTENSION incetl UPDATE TO '0.2'" to load this file. \quit
