{#- Unit conversions into the canonical units of the staging models: km, minutes, kcal. -#}

{% macro meters_to_km(column) -%}
    ({{ column }} / 1000.0)
{%- endmacro %}

{% macro seconds_to_minutes(column) -%}
    ({{ column }} / 60.0)
{%- endmacro %}

{% macro milliseconds_to_minutes(column) -%}
    ({{ column }} / 60000.0)
{%- endmacro %}

{% macro miles_to_km(column) -%}
    ({{ column }} * 1.609344)
{%- endmacro %}

{% macro yards_to_km(column) -%}
    ({{ column }} * 0.0009144)
{%- endmacro %}

{#- A whole number of minutes from a decimal (round half up on every engine: a cast alone
    rounds on PostgreSQL and truncates on Spark). -#}
{% macro whole_minutes(expression) -%}
    cast(round({{ expression }}) as {{ dbt.type_int() }})
{%- endmacro %}

{#- The minutes from one timestamp to another, as an exact decimal (seconds counted). -#}
{% macro minutes_between(start, end) -%}
    (cast({{ dbt.datediff(start, end, 'second') }} as {{ decimal_type() }}) / 60)
{%- endmacro %}
