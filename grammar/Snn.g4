// Snn.g4 — the grammar of .snn files (neurons, networks, simulations, experiments).
//
// Newlines are not significant: every item starts with a keyword or a name (`dX/dt = ...`,
// `h = x |> ...`, `data = ...`), and an expression ends where the next token cannot
// continue it. Semicolons are optional separators. The parse tree is turned into snnc::ast
// by frontend/Parser.cpp, which also checks what the grammar leaves loose (the `dX/dt` form
// of ODEs, integer slice bounds and tensor shapes, unit spellings, string escapes,
// duplicate items).
grammar Snn;

// ---------------------------------------------------------------------------- file

file : topItem* EOF ;

topItem
  : neuronDef
  | synapseDef
  | networkDef
  | simulationDef
  | experimentDef
  | ';'
  ;

// ---------------------------------------------------------------------------- neurons

neuronDef : 'neuron' ID ( '(' paramList? ')' )? '{' neuronItem* '}' ;

paramList : param (',' param)* ;
param : ID (':' type)? ('=' expr)? ;

// A unit annotation: `mV`, `real`, `mV/ms`, `uA/cm^2`, `1/ms`, `s^-1`.
type : unitAtom (('*' | '/') unitAtom)* ;
unitAtom : (ID | NUMBER) ('^' '-'? NUMBER)? ;

neuronItem
  : 'state' ID (':' type)? ('=' expr)?           # stateItem
  | 'input' ID (':' type)?                        # inputItem
  | 'let' ID '=' expr                             # letItem
  | 'output' '=' expr                             # outputItem   // a stateless activation
  | ID ('/' ID)? '=' expr                         # odeItem      // dv/dt = expr
  | 'update' '{' assignItem* '}'                  # updateItem
  | 'spike' 'when' expr surrogate?                # spikeItem
  | 'reset' '{' assignItem* '}'                   # resetItem
  | 'refractory' expr                             # refractoryItem
  | 'method' ID                                   # methodItem
  | ';'                                           # emptyNeuronItem
  ;

surrogate : 'surrogate' ID ('(' argList? ')')? ;

assignItem : assign | ';' ;
assign : ID op=('=' | '+=' | '-=') expr ;

// ---------------------------------------------------------------------------- synapses

// A synapse model: per-synapse state, traces kept per presynaptic (`pre x`) or
// postsynaptic (`post x`) neuron, their ODEs, and the `on_pre { }` / `on_post { }` blocks
// run when a spike arrives from the presynaptic neuron / the postsynaptic neuron fires.
// Parser.cpp checks the words `synapse`, `pre`/`post` and `on_pre`/`on_post` (they stay
// usable as names elsewhere, e.g. a layer's `synapse = event`).
synapseDef : kind=ID ID ( '(' paramList? ')' )? '{' synapseItem* '}' ;

synapseItem
  : 'state' ID (':' type)? ('=' expr)?           # synStateItem
  | side=ID ID (':' type)? ('=' expr)?            # synTraceItem   // pre apre: real = 0
  | 'let' ID '=' expr                             # synLetItem
  | ID '{' assignItem* '}'                        # synEventItem   // on_pre { ... }
  | ID ('/' ID)? '=' expr                         # synOdeItem     // dapre/dt = -apre / tau
  | ';'                                           # emptySynapseItem
  ;

// ---------------------------------------------------------------------------- networks

// Population networks (population/source/connect) and layer networks (input and
// `h = x |> stage |> stage`) share the block; the two kinds of items may be mixed.
networkDef : 'network' ID ( '(' netParamList? ')' )? '{' networkItem* '}' ;

// `cell: neuron = Leaky`; the default is a value so that `Leaky(0.9)` parses (Parser.cpp
// refuses named arguments there).
netParamList : netParam (',' netParam)* ;
netParam : ID (':' netParamType)? ('=' value)? ;
netParamType : 'neuron' | type ;

networkItem
  : 'population' ID '=' expr 'of' ID ('(' argList? ')')?     # populationItem
  | 'source' ID '=' ID '(' argList? ')'                      # sourceItem
  | 'connect' groupList '->' groupList ('(' argList? ')')? synapseUse?   # connectItem
  | 'input' ID ':' '[' exprList? ']'                         # tensorInputItem
  | 'output'? ID '=' expr ('|>' stage)*                      # layerItem   // a name (Parser.cpp)
  | ';'                                                      # emptyNetworkItem
  ;

// `with STDP(wmax = 0.01)`: the synapse model of a connection
synapseUse : 'with' ID ('(' argList? ')')? ;

// `linear(10)`, `conv2d(12, kernel = 5)`, `flatten`, `cell`
stage : ID ('(' callArgList? ')')? ;

groupList : groupRef (',' groupRef)* ;
groupRef : ID ('[' NUMBER (':' NUMBER)? ']')? ;

argList : arg (',' arg)* ;
arg
  : ID '=' expr    # namedArg
  | expr           # positionalArg
  ;

// ---------------------------------------------------------------------------- simulations

simulationDef : 'simulation' ID '{' simItem* '}' ;

simItem
  : (ID | 'network') '=' expr        # settingItem
  | 'record' ID '(' groupList ')'    # recordItem
  | ID '(' callArgList? ')'          # protocolItem   // present(...), learn(...), classify(...)
  | ';'                              # emptySimItem
  ;

// ---------------------------------------------------------------------------- experiments

experimentDef : 'experiment' ID '{' experimentItem* '}' ;

experimentItem
  : ID '=' value                      # experimentSetting   // data = mnist("data/mnist")
  | ID '(' callArgList? ')'           # experimentCall      // train(epochs = 10)
  | ';'                               # emptyExperimentItem
  ;

// A value: a string or an expression. Calls take named arguments and strings everywhere
// in the grammar; Parser.cpp makes a call that is a whole value (`adam(lr = 2e-3)`,
// `mnist("data/mnist")`, `exp(-3)`) a call value, and refuses named arguments and strings
// in the calls of ordinary expressions (`exp(-3) * 2`, `(f(1))`, a neuron's equations).
// One grammar for both keeps every decision LL(2).
value
  : STRING                            # stringValue
  | expr                              # exprValue
  ;

// ---------------------------------------------------------------------------- expressions
// Loosest first. Binary levels are loops (flat parse trees; the builder associates them
// to the left); `?:` and `^` associate to the right; `-x^2` is `-(x^2)`.

expr : orExpr ('?' expr ':' expr)? ;
orExpr : andExpr ('||' andExpr)* ;
andExpr : eqExpr ('&&' eqExpr)* ;
eqExpr : relExpr (('==' | '!=') relExpr)* ;
relExpr : addExpr (('<' | '<=' | '>' | '>=') addExpr)* ;
addExpr : mulExpr (('+' | '-') mulExpr)* ;
mulExpr : unaryExpr (('*' | '/') unaryExpr)* ;
unaryExpr
  : ('-' | '!') unaryExpr
  | powExpr
  ;
powExpr : atom ('^' unaryExpr)? ;
atom
  : NUMBER                         # numberAtom
  | QUANTITY                       # quantityAtom
  | ID '(' callArgList? ')'        # callAtom
  | ID                             # nameAtom
  | '(' expr ')'                   # parenAtom
  ;
exprList : expr (',' expr)* ;
callArgList : callArg (',' callArg)* ;
callArg : (ID '=')? value ;         // named arguments and strings: values only (Parser.cpp)

// ---------------------------------------------------------------------------- tokens

NEURON : 'neuron' ;
NETWORK : 'network' ;
SIMULATION : 'simulation' ;
STATE : 'state' ;
INPUT : 'input' ;
LET : 'let' ;
UPDATE : 'update' ;
SPIKE : 'spike' ;
WHEN : 'when' ;
SURROGATE : 'surrogate' ;
RESET : 'reset' ;
REFRACTORY : 'refractory' ;
METHOD : 'method' ;
POPULATION : 'population' ;
OF : 'of' ;
SOURCE : 'source' ;
CONNECT : 'connect' ;
WITH : 'with' ;
RECORD : 'record' ;
OUTPUT : 'output' ;
EXPERIMENT : 'experiment' ;

// A number directly followed by a unit spelled with letters: 20ms, 1.62mV, 1e3Hz.
// `2e-3` stays a NUMBER (the longer match).
QUANTITY : NUM_BODY [a-zA-Z]+ ;
NUMBER : NUM_BODY ;
fragment NUM_BODY : DIGITS ('.' DIGITS?)? EXPONENT? | '.' DIGITS EXPONENT? ;
fragment DIGITS : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;

ID : [a-zA-Z_] [a-zA-Z0-9_]* ;

// "text" with the escapes \" \\ \n \t, on one line. An unterminated string (at the end of
// the line or file) is still one STRING token: Parser.cpp reports it, and checks escapes.
STRING : '"' ( '\\' ~[\r\n] | ~[\\"\r\n] )* ( '"' | '\\' )? ;

WS : [ \t\r\n\f\uFEFF]+ -> skip ;   // \uFEFF: a byte order mark
LINE_COMMENT : '//' ~[\r\n]* -> skip ;
// An unterminated comment runs to the end of the file; Parser.cpp reports it.
BLOCK_COMMENT : '/*' .*? ('*/' | EOF) -> channel(HIDDEN) ;
// Anything else: reported by Parser.cpp as "invalid character", then ignored.
INVALID_CHAR : . -> channel(HIDDEN) ;
